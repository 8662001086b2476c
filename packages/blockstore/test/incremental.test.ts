import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultyObjectStore, MemoryObjectStore } from '@convoy/objectstore/testing';
import { FileSource, restoreBackup, type SnapshotSource } from '../src/index.js';
import { MiB, scribble, sha256File, writeMixedImage } from './files.js';
import { backupFile } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-inc-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Counts the bytes a backup reads from its source. */
class CountingSource implements SnapshotSource {
  bytesRead = 0;
  readOffsets: number[] = [];
  readonly inner: FileSource;
  constructor(inner: FileSource) {
    this.inner = inner;
  }
  get size(): number {
    return this.inner.size;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    this.bytesRead += length;
    this.readOffsets.push(offset);
    return this.inner.read(offset, length);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const blockPuts = (s: FaultyObjectStore): string[] => s.putKeys.filter((k) => k.startsWith('blocks/'));

describe('incremental backups', () => {
  it('upload only the changed blocks, with and without a change list', async () => {
    const img = path.join(dir, 'a.img');
    await writeMixedImage(img, 40 * MiB);
    const store = new FaultyObjectStore(new MemoryObjectStore());
    await backupFile({ store, volume: 'v', file: img });
    // change 3 blocks: #1 (two places), #7, #19 (the last one)
    const changed = await scribble(img, [
      [2 * MiB + 100, 50],
      [4 * MiB - 10, 10],
      [14 * MiB + 3, 4096],
      [40 * MiB - 1, 1],
    ]);

    store.resetCounts();
    const withList = new CountingSource(await FileSource.open(img));
    const a = await backupFile({ store, volume: 'v', file: img, source: withList, changed });
    expect(blockPuts(store)).toHaveLength(3);
    expect(withList.bytesRead).toBe(3 * 2 * MiB); // only the changed blocks were read
    expect(new Set(withList.readOffsets)).toEqual(new Set([2 * MiB, 14 * MiB, 38 * MiB]));
    expect(a.manifest.stats).toMatchObject({ blocksRead: 3, blocksUploaded: 3 });

    await scribble(img, [[30 * MiB, 10]]);
    store.resetCounts();
    const noList = new CountingSource(await FileSource.open(img));
    const b = await backupFile({ store, volume: 'v', file: img, source: noList });
    expect(blockPuts(store)).toHaveLength(1);
    expect(noList.bytesRead).toBe(40 * MiB); // everything read and hashed...
    expect(b.manifest.stats.blocksUploaded).toBe(1); // ...but only the new block uploaded
    expect(b.manifest.parent).toBe(a.manifest.id);

    const out = path.join(dir, 'a.out');
    await restoreBackup({ store, volume: 'v', id: b.manifest.id, target: out });
    expect(await sha256File(out)).toBe(await sha256File(img));
  });

  /** Blocks of 2 MiB of `file` that are not wholly in a hole (what a backup without a change list reads). */
  async function blocksWithData(file: string, blocks: number): Promise<number> {
    const src = await FileSource.open(file);
    try {
      return Array.from({ length: blocks }, (_, b) => src.isHole(b * 2 * MiB, Math.min(2 * MiB, src.size - b * 2 * MiB))).filter(
        (hole) => !hole,
      ).length;
    } finally {
      await src.close();
    }
  }

  it('a chain of 10 incrementals: every backup restores its own state exactly', async () => {
    const img = path.join(dir, 'chain.img');
    await writeMixedImage(img, 21 * MiB + 5);
    const store = new MemoryObjectStore();
    const states: { id: string; sha: string }[] = [];
    const first = await backupFile({ store, volume: 'chain', file: img });
    states.push({ id: first.manifest.id, sha: await sha256File(img) });
    for (let i = 0; i < 10; i++) {
      const changed = await scribble(img, [[((i * 7919) % 20) * MiB + i * 1000, 3000 + i]]);
      const { manifest } = await backupFile({ store, volume: 'chain', file: img, changed: i % 2 === 0 ? changed : undefined });
      // with a change list only the changed block is read; without one every block not in a hole
      expect(manifest.stats.blocksRead).toBe(i % 2 === 0 ? 1 : await blocksWithData(img, 11));
      states.push({ id: manifest.id, sha: await sha256File(img) });
    }
    expect(new Set(states.map((s) => s.sha)).size).toBe(11);
    for (const s of states) {
      const out = path.join(dir, `chain-${s.id}.out`);
      await restoreBackup({ store, volume: 'chain', id: s.id, target: out });
      expect(await sha256File(out), s.id).toBe(s.sha);
      await fs.rm(out);
    }
  });

  it('restore --incremental writes only the blocks that differ', async () => {
    const img = path.join(dir, 'ri.img');
    await writeMixedImage(img, 30 * MiB);
    const store = new FaultyObjectStore(new MemoryObjectStore());
    const one = await backupFile({ store, volume: 'ri', file: img });
    const out = path.join(dir, 'ri.out');
    await restoreBackup({ store, volume: 'ri', id: one.manifest.id, target: out });
    // two blocks change, one block becomes zero
    await scribble(img, [
      [3 * MiB, 10],
      [25 * MiB, 10],
    ]);
    const fh = await fs.open(img, 'r+');
    await fh.write(Buffer.alloc(2 * MiB), 0, 2 * MiB, 0);
    await fh.close();
    const two = await backupFile({ store, volume: 'ri', file: img });
    store.resetCounts();
    const r = await restoreBackup({ store, volume: 'ri', id: two.manifest.id, target: out, incremental: true });
    expect(r.blocksWritten).toBe(3);
    expect(store.calls.get).toBe(2 + 3); // manifest + block map, then 2 changed blocks; +1 header
    expect(await sha256File(out)).toBe(await sha256File(img));
  });

  it('restore onto a target that reads as zeros writes only the non-zero blocks, and reads nothing', async () => {
    const img = path.join(dir, 'tz.img');
    await writeMixedImage(img, 30 * MiB); // 15 blocks: 5 random, 5 text, 5 zero
    const store = new MemoryObjectStore();
    const { manifest } = await backupFile({ store, volume: 'tz', file: img });
    const out = path.join(dir, 'tz.out');
    const fh = await fs.open(out, 'w');
    await fh.truncate(30 * MiB); // sparse: zeros, like a fresh thin volume
    await fh.close();
    const r = await restoreBackup({ store, volume: 'tz', id: manifest.id, target: out, targetIsZeroed: true });
    expect(r.blocksWritten).toBe(manifest.blockMap.entries);
    expect(r.blocksWritten).toBe(10);
    expect(await sha256File(out)).toBe(await sha256File(img));
    expect((await fs.stat(out)).blocks * 512).toBeLessThanOrEqual(20 * MiB + 64 * 1024); // zero regions stayed holes
  });

  it('a change list without a parent is refused before anything is written', async () => {
    const img = path.join(dir, 'np.img');
    await fs.writeFile(img, 'abc');
    const store = new FaultyObjectStore(new MemoryObjectStore());
    await expect(backupFile({ store, volume: 'np', file: img, changed: [{ offset: 0, length: 1 }] })).rejects.toMatchObject({
      code: 'CONVOY_INVALID_ARGUMENT',
    });
    expect(store.putKeys.filter((k) => !k.startsWith('locks/') && k !== 'convoy.json')).toEqual([]);
  });

  it('handles a volume that grew since its parent', async () => {
    const img = path.join(dir, 'grow.img');
    await writeMixedImage(img, 5 * MiB + 1);
    const store = new MemoryObjectStore();
    await backupFile({ store, volume: 'g', file: img });
    const fh = await fs.open(img, 'r+');
    await fh.write(Buffer.alloc(3 * MiB, 1), 0, 3 * MiB, 5 * MiB + 1);
    await fh.close();
    const { manifest } = await backupFile({ store, volume: 'g', file: img, changed: [] });
    const out = path.join(dir, 'grow.out');
    await restoreBackup({ store, volume: 'g', id: manifest.id, target: out });
    expect(await sha256File(out)).toBe(await sha256File(img));
  });
});
