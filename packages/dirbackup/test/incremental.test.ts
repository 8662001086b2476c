import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockKey, deleteBackup, readBlockMap, readManifest, runMaintenance, verifyStore } from '@convoy/blockstore';
import { FaultyObjectStore, MemoryObjectStore } from '@convoy/objectstore/testing';
import type { ObjectStore } from '@convoy/objectstore';
import { backupDirectory, restoreDirectory } from '../src/index.js';
import { setMtimeNs } from '../src/native.js';
import { allStores } from './stores.js';
import { describeTree, makeTree, MiB, noise, OLD_NS } from './tree.js';

/** Records the keys of every stat, to see what a backup looked at. */
class RecordingStore extends FaultyObjectStore {
  readonly statKeys: string[] = [];
  override async stat(key: string, options?: { signal?: AbortSignal }): ReturnType<ObjectStore['stat']> {
    this.statKeys.push(key);
    return super.stat(key, options);
  }
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-dirbackup-inc-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const idsOf = async (store: ObjectStore, volume: string, id: string): Promise<Set<string>> =>
  new Set((await readBlockMap(store, await readManifest(store, volume, id))).ids());

describe('the files cache', () => {
  it('takes unchanged files from the parent: they are neither read nor looked up in the store', async () => {
    const src = path.join(dir, 'cache');
    await makeTree(src);
    await fs.chmod(path.join(src, 'ro-dir'), 0o755);
    const inner = new MemoryObjectStore();
    const store = new RecordingStore(inner);
    const full = await backupDirectory({ store, volume: 'v', dir: src, filesCache: { ctime: false, inode: false } });
    const files = full.stats.filesTotal;

    // One file edited (new mtime), one appended to, and one rewritten behind the cache's back:
    // same size and mtime. With ctime and inode off (vfs snapshots), that one is not read again.
    await fs.writeFile(path.join(src, 'small/f010.txt'), 'changed\n');
    await fs.appendFile(path.join(src, 'big/random.bin'), noise(100_000, 9));
    await fs.writeFile(path.join(src, 'small/f020.txt'), 'X'.repeat((await fs.stat(path.join(src, 'small/f020.txt'))).size));
    setMtimeNs(path.join(src, 'small/f020.txt'), OLD_NS);
    store.statKeys.length = 0;
    const putsBefore = store.putKeys.length;
    const inc = await backupDirectory({ store, volume: 'v', dir: src, filesCache: { ctime: false, inode: false } });
    expect(inc.manifest.parent).toBe(full.manifest.id);
    expect(inc.stats).toMatchObject({ filesTotal: files, filesRead: 2, filesCached: files - 2 });

    // The store was asked only about the chunks of the two files read, and the index segments
    // (each possibly twice: before uploading it, and to confirm the upload before the commit).
    const chunkStats = store.statKeys.filter((k) => k.startsWith('blocks/'));
    const readIds = new Set<string>();
    for (const k of chunkStats) readIds.add(k);
    expect(readIds.size).toBeLessThanOrEqual(2 + Math.ceil((3 * MiB) / (512 * 1024)) + inc.stats.segments);
    const uploaded = store.putKeys.slice(putsBefore).filter((k) => k.startsWith('blocks/'));
    expect(uploaded.length).toBeLessThanOrEqual(readIds.size);
    // Restoring shows the cached file kept its old content: it was not read.
    const out = path.join(dir, 'cache-out');
    await restoreDirectory({ store, volume: 'v', id: inc.manifest.id, target: out });
    expect(await fs.readFile(path.join(out, 'small/f020.txt'), 'utf8')).toBe('file 20\n'.repeat(21));
    expect(await fs.readFile(path.join(out, 'small/f010.txt'), 'utf8')).toBe('changed\n');
    expect((await fs.stat(path.join(out, 'big/random.bin'))).size).toBe(3 * MiB + 12345 + 100_000);
  });

  it('compares ctime and inode by default: a rewrite behind its back is read again', async () => {
    const src = path.join(dir, 'strict');
    await fs.mkdir(src);
    await fs.writeFile(path.join(src, 'a'), 'aaaa');
    setMtimeNs(path.join(src, 'a'), OLD_NS);
    const store = new MemoryObjectStore();
    await backupDirectory({ store, volume: 'v', dir: src });
    await fs.writeFile(path.join(src, 'a'), 'bbbb');
    setMtimeNs(path.join(src, 'a'), OLD_NS);
    const inc = await backupDirectory({ store, volume: 'v', dir: src });
    expect(inc.stats).toMatchObject({ filesRead: 1, filesCached: 0 });
    const out = path.join(dir, 'strict-out');
    await restoreDirectory({ store, volume: 'v', id: inc.manifest.id, target: out });
    expect(await fs.readFile(path.join(out, 'a'), 'utf8')).toBe('bbbb');
  });
});

describe.each([{ name: 'memory', create: async (): Promise<ObjectStore> => new MemoryObjectStore() }, ...allStores()])(
  'delete and maintenance on $name',
  (kind) => {
    it('deleting a directory backup frees its unique chunks and segments, keeps shared ones, and verify is clean', async () => {
      const a = path.join(dir, `gc-a-${kind.name.replace(/\W/g, '')}`);
      const b = path.join(dir, `gc-b-${kind.name.replace(/\W/g, '')}`);
      for (const d of [a, b]) {
        await fs.mkdir(d);
        await fs.writeFile(path.join(d, 'shared.bin'), noise(2 * MiB, 1));
      }
      await fs.writeFile(path.join(a, 'only-a.bin'), noise(700_000, 2));
      await fs.writeFile(path.join(b, 'only-b.bin'), noise(700_000, 5));
      const store = await kind.create();
      const ba = await backupDirectory({ store, volume: 'va', dir: a });
      const bb = await backupDirectory({ store, volume: 'vb', dir: b });
      const idsA = await idsOf(store, 'va', ba.manifest.id);
      const idsB = await idsOf(store, 'vb', bb.manifest.id);
      const unique = [...idsA].filter((h) => !idsB.has(h));
      const shared = [...idsA].filter((h) => idsB.has(h));
      expect(unique.length).toBeGreaterThanOrEqual(2); // only-a.bin's chunk and a's index segment
      expect(shared.length).toBeGreaterThanOrEqual(1);

      await deleteBackup({ store, volume: 'va', id: ba.manifest.id });
      await runMaintenance({ store, full: true, graceMs: 0 });
      const second = await runMaintenance({ store, full: true, graceMs: 0 });
      expect(second.sweep?.blocksDeleted).toBe(unique.length);
      for (const h of unique) expect(await store.stat(blockKey(h))).toBeUndefined();
      for (const h of idsB) expect(await store.stat(blockKey(h))).toBeDefined();
      expect(await store.stat(`volumes/va/backups/${ba.manifest.id}.files`)).toBeUndefined();

      const out = path.join(dir, `gc-out-${kind.name.replace(/\W/g, '')}`);
      await restoreDirectory({ store, volume: 'vb', id: bb.manifest.id, target: out });
      expect(await describeTree(out)).toEqual(await describeTree(b));
      const v = await verifyStore({ store, readData: true });
      expect(v.problems).toEqual([]);
      expect(v.ok).toBe(true);
      // the index rebuilt from every backup's reference list counts the same: a sweep frees nothing more
      await runMaintenance({ store, rebuildIndex: true });
      await runMaintenance({ store, full: true, graceMs: 0 });
      const again = await runMaintenance({ store, full: true, graceMs: 0 });
      expect(again.sweep?.blocksDeleted ?? 0).toBe(0);
      expect((await verifyStore({ store, readData: true })).ok).toBe(true);
    });
  },
);

describe('progress', () => {
  it('a backup ends with a progress event that counts every byte and upload, also when no file changed; a restore ends with the whole tree', async () => {
    const src = path.join(dir, 'progress-src');
    await fs.mkdir(path.join(src, 'd'), { recursive: true });
    for (let i = 0; i < 12; i++) await fs.writeFile(path.join(src, 'd', `f${i}`), noise(20_000 + i * 1000, 500 + i));
    await fs.writeFile(path.join(src, 'big'), noise(2 * MiB, 77));
    for (const f of await fs.readdir(path.join(src, 'd'))) setMtimeNs(path.join(src, 'd', f), OLD_NS);
    setMtimeNs(path.join(src, 'big'), OLD_NS);
    const store = new MemoryObjectStore();
    type Event = Parameters<NonNullable<Parameters<typeof backupDirectory>[0]['onProgress']>>[0];
    for (const round of ['full', 'unchanged'] as const) {
      const events: Event[] = [];
      const { stats, manifest } = await backupDirectory({ store, volume: 'p', dir: src, onProgress: (e) => events.push(e) });
      if (round === 'unchanged') expect(stats.filesCached).toBe(stats.filesTotal);
      const last = events.at(-1);
      expect(last, round).toMatchObject({ phase: 'backup', bytesDone: manifest.size, bytesTotal: manifest.size });
      expect(last?.bytesTransferred, round).toBe(stats.bytesUploaded);
      if (round === 'full') expect(stats.bytesUploaded).toBeGreaterThan(0);

      const restored: Event[] = [];
      const out = path.join(dir, `progress-out-${round}`);
      const r = await restoreDirectory({ store, volume: 'p', id: manifest.id, target: out, onProgress: (e) => restored.push(e) });
      expect(restored.at(-1)).toMatchObject({
        phase: 'restore',
        bytesDone: manifest.size,
        bytesTotal: manifest.size,
        blocksDone: r.files,
        bytesTransferred: r.bytesFetched,
      });
    }
  });
});
