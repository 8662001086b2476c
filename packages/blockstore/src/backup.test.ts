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

describe('block objects for a store that hashes its bodies', () => {
  it('come with the SHA-256 of exactly the bytes put, computed with the encoding (compressed and stored as is)', async () => {
    const puts: { key: string; body: Buffer; sha256: Buffer | undefined }[] = [];
    class SigningStore extends MemoryObjectStore {
      readonly hashesPayloads = true;
      override async put(
        key: string,
        body: Parameters<MemoryObjectStore['put']>[1],
        options?: Parameters<MemoryObjectStore['put']>[2],
      ): Promise<void> {
        if (key.startsWith('blocks/') && body instanceof Uint8Array) puts.push({ key, body: Buffer.from(body), sha256: options?.sha256 });
        return super.put(key, body, options);
      }
    }
    const text = Buffer.from('a compressible line of a log, 42\n'.repeat((2 * MiB) / 33 + 1)).subarray(0, 2 * MiB);
    const data = Buffer.concat([text, randomBytes(2 * MiB), randomBytes(MiB)]);
    const store = new SigningStore();
    expect(sha(await roundTrip(store, data))).toBe(sha(data));
    expect(puts).toHaveLength(3);
    for (const p of puts) expect(p.sha256?.toString('hex'), p.key).toBe(sha(p.body));
    expect(new Set(puts.map((p) => p.body[4]))).toEqual(new Set([0, 2])); // both outcomes: stored as is, zstd
  });
});
