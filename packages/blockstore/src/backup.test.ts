import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FaultyObjectStore, MemoryObjectStore } from '@convoy/objectstore/testing';
import { backupVolume } from './backup.js';
import { restoreBackup } from './restore.js';
import { BufferSource, MiB, tempDir } from './test-helpers.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function roundTrip(store: FaultyObjectStore | MemoryObjectStore, data: Buffer, volume = 'vol1'): Promise<Buffer> {
  const { manifest } = await backupVolume({ store, volume, source: new BufferSource(data) });
  const dir = await tempDir('convoy-restore-');
  const target = path.join(dir, 'out.img');
  await restoreBackup({ store, volume, id: manifest.id, target });
  const back = await fs.readFile(target);
  await fs.rm(dir, { recursive: true });
  return back;
}

describe('backup and restore (memory store)', () => {
  it.each([
    ['empty', 0],
    ['tiny', 1],
    ['not a multiple of 2 MiB', 5 * MiB + 12345],
  ])('round-trips %s bit-exact', async (_l, size) => {
    const data = randomBytes(size);
    expect(sha(await roundTrip(new MemoryObjectStore(), data))).toBe(sha(data));
  });

  it('skips zero blocks and deduplicates identical blocks', async () => {
    const block = randomBytes(2 * MiB);
    const data = Buffer.concat([block, Buffer.alloc(4 * MiB), block, block]);
    const store = new FaultyObjectStore(new MemoryObjectStore());
    const { manifest } = await backupVolume({ store, volume: 'v', source: new BufferSource(data) });
    expect(store.putKeys.filter((k) => k.startsWith('blocks/'))).toHaveLength(1);
    expect(manifest.stats).toMatchObject({ blocksTotal: 5, blocksNonZero: 3, blocksUploaded: 1 });
    expect(sha(await roundTrip(store, data, 'v'))).toBe(sha(data));
  });
});
