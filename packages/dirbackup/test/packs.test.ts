import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockKey, deleteBackup, readBlockMap, readManifest, runMaintenance, verifyStore } from '@convoy/blockstore';
import type { GetOptions, ObjectStore } from '@convoy/objectstore';
import { FaultyObjectStore, MemoryObjectStore } from '@convoy/objectstore/testing';
import { backupDirectory, restoreDirectory } from '../src/index.js';
import { allStores } from './stores.js';
import { describeTree, noise, OLD_NS } from './tree.js';
import { setMtimeNs } from '../src/native.js';

/** Records every get (key and range), to see what a restore fetched. */
class RecordingStore extends FaultyObjectStore {
  readonly gets: { key: string; bytes: number }[] = [];
  override async get(key: string, options?: GetOptions): Promise<Buffer> {
    const b = await super.get(key, options);
    this.gets.push({ key, bytes: b.length });
    return b;
  }
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-dirbackup-packs-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function smallTree(root: string, files: number, seed: number): Promise<void> {
  for (let i = 0; i < files; i++) {
    const sub = path.join(root, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) await fs.mkdir(sub, { recursive: true });
    await fs.writeFile(path.join(sub, `f${i}`), noise(1000 + (i % 50) * 100, seed * 100_000 + i));
    setMtimeNs(path.join(sub, `f${i}`), OLD_NS);
  }
}

const blocksOf = async (store: ObjectStore, volume: string, id: string): Promise<Set<string>> =>
  new Set((await readBlockMap(store, await readManifest(store, volume, id))).ids());

describe('packs', () => {
  it('put a tree of many small files into a few objects, and a single file comes back by one range GET', async () => {
    const src = path.join(dir, 'many');
    await smallTree(src, 2000, 1);
    const inner = new MemoryObjectStore();
    const store = new RecordingStore(inner);
    const { manifest, stats } = await backupDirectory({ store, volume: 'v', dir: src, packs: { packBytes: 1024 * 1024 } });
    const blocks = store.putKeys.filter((k) => k.startsWith('blocks/'));
    expect(stats.packsWritten).toBeGreaterThanOrEqual(4); // ~4.5 MB of small files in 1 MiB packs
    expect(blocks.length).toBe(stats.packsWritten + stats.segments + 1); // + the pack map
    expect(blocks.length).toBeLessThan(20);

    const out = path.join(dir, 'many-one');
    store.gets.length = 0;
    await restoreDirectory({ store, volume: 'v', id: manifest.id, target: out, path: 'd7/f777' });
    expect(await fs.readFile(path.join(out, 'd7/f777'))).toEqual(await fs.readFile(path.join(src, 'd7/f777')));
    const chunkGets = store.gets.filter((g) => g.key.startsWith('blocks/') && g.bytes < 10_000);
    expect(chunkGets.length).toBe(1); // the file's chunk, not its 1 MiB pack
    expect(store.gets.every((g) => g.bytes < 1024 * 1024)).toBe(true);

    const all = path.join(dir, 'many-all');
    await restoreDirectory({ store, volume: 'v', id: manifest.id, target: all });
    expect(await describeTree(all)).toEqual(await describeTree(src));
  });

  it.each([{ name: 'memory', create: async (): Promise<ObjectStore> => new MemoryObjectStore() }, ...allStores()])(
    'an incremental keeps the parent packs it uses, repacks those it mostly no longer needs, and maintenance frees them ($name)',
    async (kind) => {
      const src = path.join(dir, `repack-${kind.name.replace(/\W/g, '')}`);
      await smallTree(src, 600, 2);
      const store = await kind.create();
      const packs = { packBytes: 256 * 1024, repackBelow: 0.5 };
      const first = await backupDirectory({ store, volume: 'v', dir: src, packs, filesCache: { ctime: false, inode: false } });
      // d0..d2 removed (half of the first packs' files), one file of d5 changed
      for (const d of ['d0', 'd1', 'd2']) await fs.rm(path.join(src, d), { recursive: true });
      await fs.writeFile(path.join(src, 'd5', 'f550'), 'changed');
      const second = await backupDirectory({ store, volume: 'v', dir: src, packs, filesCache: { ctime: false, inode: false } });
      expect(second.stats).toMatchObject({ filesRead: 1, filesCached: 299 });
      expect(second.stats.packsRepacked).toBeGreaterThanOrEqual(1);
      const before = await blocksOf(store, 'v', first.manifest.id);
      const after = await blocksOf(store, 'v', second.manifest.id);
      const kept = [...after].filter((h) => before.has(h));
      expect(kept.length).toBeGreaterThanOrEqual(1); // packs of d3..d5 still used whole

      await deleteBackup({ store, volume: 'v', id: first.manifest.id });
      await runMaintenance({ store, full: true, graceMs: 0 });
      await runMaintenance({ store, full: true, graceMs: 0 });
      for (const h of before) expect((await store.stat(blockKey(h))) !== undefined).toBe(after.has(h));
      const out = path.join(dir, `repack-out-${kind.name.replace(/\W/g, '')}`);
      await restoreDirectory({ store, volume: 'v', id: second.manifest.id, target: out });
      expect(await describeTree(out)).toEqual(await describeTree(src));
      expect((await verifyStore({ store, readData: true })).ok).toBe(true);
    },
  );
});
