import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '@convoy/objectstore';
import {
  backupVolume,
  deleteBackup,
  listBackupIds,
  readHeader,
  restoreBackup,
  runMaintenance,
  upgradeStore,
  verifyStore,
} from '../src/index.js';
import { BufferSource } from '../src/test-helpers.js';
import { GOLDEN_DIR, GOLDEN_ID, GOLDEN_VOLUME, goldenImage } from './golden.js';
import { GOLDEN_V2_DIR, GOLDEN_V2_ZSTD3_DIR, V2_IDS, V2_VOLUME, v2Images, writeGoldenV2Store } from './golden-v2.js';
import { collectAll, keysUnder } from './helpers.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function files(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(path.relative(dir, path.join(e.parentPath, e.name)), sha(await fs.readFile(path.join(e.parentPath, e.name))));
  }
  return out;
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-golden-v2-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A writable copy of a fixture (the fixture stays read-only). */
async function copyOf(fixture: string, name: string): Promise<FsObjectStore> {
  const to = path.join(dir, name);
  await fs.cp(fixture, to, { recursive: true });
  return new FsObjectStore(to).open();
}

async function restoreSha(store: FsObjectStore, volume: string, id: string): Promise<string> {
  const out = path.join(dir, `out-${id}-${Math.random().toString(36).slice(2)}`);
  await restoreBackup({ store, volume, id, target: out });
  const s = sha(await fs.readFile(out));
  await fs.rm(out);
  return s;
}

describe('format v2 golden store (test-fixtures/format-v2)', () => {
  it('is what this code writes, byte for byte (the encoders have not drifted)', async () => {
    const out = path.join(dir, 'written');
    await writeGoldenV2Store(out);
    expect(await files(out)).toEqual(await files(GOLDEN_V2_DIR));
  });

  it.each([
    ['as this code writes it', GOLDEN_V2_DIR, 'v2'],
    ['as written with zstd level 3 before', GOLDEN_V2_ZSTD3_DIR, 'v2-zstd3'],
  ])('is read, restored, merged and collected by this code as docs/format.md says (%s)', async (_, fixture, name) => {
    const store = await copyOf(fixture, name);
    expect((await readHeader(store)).header).toMatchObject({ version: 2, gc: { shardDigits: 2, graceMs: 86_400_000 } });
    expect(await listBackupIds(store, V2_VOLUME)).toEqual([V2_IDS[0], V2_IDS[1]]); // the third is deleted
    const [one, two] = v2Images();
    expect(await restoreSha(store, V2_VOLUME, V2_IDS[0])).toBe(sha(one));
    expect(await restoreSha(store, V2_VOLUME, V2_IDS[1])).toBe(sha(two));
    const m = await runMaintenance({ store });
    expect(m).toMatchObject({ generation: 2, merge: { adds: 1, deletes: 1 } });
    expect(await keysUnder(store, 'refs/pending/')).toEqual([]);
    expect(await keysUnder(store, `volumes/${V2_VOLUME}/backups/${V2_IDS[2]}`)).toEqual([]);
    const gc = await collectAll(store);
    expect(gc.blocksDeleted).toBe(1); // the deleted backup's only block
    expect(await keysUnder(store, 'blocks/')).toHaveLength(2);
    expect((await verifyStore({ store, readData: true })).problems).toEqual([]);
  });
});

describe('format v1 stores', () => {
  it('a v1 store keeps working as v1 (backups, deletes with their GC), then restores the same before and after upgrade, and works as v2', async () => {
    const store = await copyOf(GOLDEN_DIR, 'v1');
    const img = goldenImage();
    expect(await restoreSha(store, GOLDEN_VOLUME, GOLDEN_ID)).toBe(sha(img));
    // v1 protocol: a backup writes no marker, a delete collects at once
    const extra = await backupVolume({ store, volume: 'more', source: new BufferSource(Buffer.from('v1 data '.repeat(50_000))) });
    expect(await keysUnder(store, 'refs/')).toEqual([]);
    const gone = await backupVolume({ store, volume: 'gone', source: new BufferSource(Buffer.from('short-lived '.repeat(10_000))) });
    const d = await deleteBackup({ store, volume: 'gone', id: gone.manifest.id });
    expect(d).toMatchObject({ collectedBy: 'delete', blocksDeleted: 1 });
    await expect(runMaintenance({ store })).rejects.toMatchObject({ code: 'CONVOY_FORMAT_UNSUPPORTED' });

    const up = await upgradeStore({ store });
    expect(up).toMatchObject({ from: 1, to: 2, backups: 2, unreadable: [] });
    expect((await readHeader(store)).header.version).toBe(2);
    expect(await upgradeStore({ store })).toMatchObject({ from: 2, to: 2 }); // idempotent
    expect(await restoreSha(store, GOLDEN_VOLUME, GOLDEN_ID)).toBe(sha(img));
    await runMaintenance({ store });
    // every old block is referenced by the index now: full collection removes nothing of them
    const before = await keysUnder(store, 'blocks/');
    await collectAll(store);
    expect(await keysUnder(store, 'blocks/')).toEqual(before);
    await deleteBackup({ store, volume: 'more', id: extra.manifest.id });
    await collectAll(store);
    expect(await keysUnder(store, 'blocks/')).toHaveLength(before.length - 1);
    expect(await restoreSha(store, GOLDEN_VOLUME, GOLDEN_ID)).toBe(sha(img));
    expect((await verifyStore({ store, readData: true })).problems).toEqual([]);
  });
});
