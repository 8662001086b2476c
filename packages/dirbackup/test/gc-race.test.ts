// docs/gc-safety.md, "Directory backups": a backup that deduplicates against packs, segments and
// chunks a paused sweep then deletes finds them gone in its commit guard and uploads them again —
// packs rebuilt from the files they came from — before it commits.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockKey, deleteBackup, readBlockMap, readManifest, runMaintenance, verifyStore } from '@convoy/blockstore';
import { FaultyObjectStore, Gate, MemoryObjectStore } from '@convoy/objectstore/testing';
import { backupDirectory, restoreDirectory } from '../src/index.js';
import { describeTree, noise } from './tree.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-dirbackup-race-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('GC race', () => {
  it('a directory backup deduplicating against blocks a sweep deletes before its marker is written uploads them again, packs included', async () => {
    const src = path.join(dir, 'src');
    await fs.mkdir(src);
    for (let i = 0; i < 40; i++) await fs.writeFile(path.join(src, `f${i}`), noise(4000, i + 1));
    await fs.writeFile(path.join(src, 'big'), noise(900_000, 77));
    const store = new FaultyObjectStore(new MemoryObjectStore());
    const packs = { packBytes: 64 * 1024 };
    const a = await backupDirectory({ store, volume: 'a', dir: src, packs });
    const ids = [...(await readBlockMap(store, await readManifest(store, 'a', a.manifest.id))).ids()];
    await deleteBackup({ store, volume: 'a', id: a.manifest.id });
    const mark = await runMaintenance({ store, full: true, graceMs: 0 });
    expect(mark.sweep?.blocksMarked).toBe(ids.length);

    const gate = new Gate();
    store.addFault({ op: 'put', kind: 'pause', key: /^refs\/pending\/b\/.*\.add$/, times: 1, gate: () => gate.wait() });
    const paused = backupDirectory({ store, volume: 'b', dir: src, packs });
    await gate.reached; // it found every block present (nothing uploaded), its marker is not written
    const sweep = await runMaintenance({ store, full: true, graceMs: 0 });
    expect(sweep.sweep?.blocksDeleted).toBe(ids.length);
    for (const h of ids) expect(await store.stat(blockKey(h))).toBeUndefined();
    gate.open();
    const b = await paused;
    expect(b.stats.blocksUploaded).toBe(0);
    // packs hold their chunks in walk order whatever the timing of the reads: b's are a's
    expect(b.manifest.packs?.entries).toBe(40); // the small files are in packs, found in the store (not uploaded)
    expect(b.guard.reuploaded).toBe(ids.length); // chunks, packs (rebuilt from the files), segments, pack map
    for (const h of ids) expect(await store.stat(blockKey(h))).toBeDefined();
    const out = path.join(dir, 'out');
    await restoreDirectory({ store, volume: 'b', id: b.manifest.id, target: out });
    expect(await describeTree(out)).toEqual(await describeTree(src));
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);
  });
});
