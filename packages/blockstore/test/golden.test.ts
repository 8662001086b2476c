import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsObjectStore } from '@convoy/objectstore';
import {
  BlockMap,
  SHA256,
  blockKey,
  encodeBlock,
  listManifests,
  readBlockMap,
  readHeader,
  readManifest,
  restoreBackup,
  verifyStore,
} from '../src/index.js';
import { GOLDEN_DIR, GOLDEN_ZSTD3_DIR, GOLDEN_ID, GOLDEN_VOLUME, goldenImage, writeGoldenStore } from './golden.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function files(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const p = path.join(e.parentPath, e.name);
      out.set(path.relative(dir, p), sha(await fs.readFile(p)));
    }
  }
  return out;
}

describe('format v1 golden store (test-fixtures/format-v1)', () => {
  it.each([
    ['as this code writes it', GOLDEN_DIR],
    ['as written with zstd level 3 before', GOLDEN_ZSTD3_DIR],
  ])('is read and restored bit-exact by this code (%s)', async (_, fixture) => {
    const store = new FsObjectStore(fixture);
    const { header } = await readHeader(store);
    expect(header).toMatchObject({ version: 1, blockSize: 2 * 1024 * 1024, blockId: { algorithm: 'sha256' } });
    const m = await readManifest(store, GOLDEN_VOLUME, GOLDEN_ID);
    expect(m).toMatchObject({ snapshot: 'snap-golden', parent: null, labels: { fixture: 'format-v1' }, size: goldenImage().length });
    const map = await readBlockMap(store, m);
    expect([...map.entries()].map((e) => [e.index, e.length])).toEqual([
      [0, 2 * 1024 * 1024],
      [2, goldenImage().length - 4 * 1024 * 1024],
    ]);
    expect((await listManifests(store)).map((x) => x.id)).toEqual([GOLDEN_ID]);
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-golden-'));
    const out = path.join(dir, 'img');
    // restore takes a lock in the store: work on a copy, the fixture stays read-only
    await fs.cp(fixture, path.join(dir, 'store'), { recursive: true });
    await restoreBackup({ store: new FsObjectStore(path.join(dir, 'store')), volume: GOLDEN_VOLUME, id: GOLDEN_ID, target: out });
    expect(sha(await fs.readFile(out))).toBe(sha(goldenImage()));
    await fs.rm(dir, { recursive: true });
  });

  it('is what this code writes, byte for byte (the encoders have not drifted)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-golden-w-'));
    await writeGoldenStore(dir);
    expect(await files(dir)).toEqual(await files(GOLDEN_DIR));
    await fs.rm(dir, { recursive: true });
  });

  it('block objects follow the documented layout', async () => {
    const raw = Buffer.from('x'.repeat(1000));
    const obj = await encodeBlock('zstd', raw);
    expect(obj.subarray(0, 4).toString()).toBe('CVB1');
    expect(obj[4]).toBe(2);
    expect(obj.readUInt32LE(8)).toBe(1000);
    const incompressible = await encodeBlock('zstd', Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 97) & 255)));
    expect(incompressible[4]).toBe(0); // stored raw when compression does not help
    expect(blockKey(SHA256.digest(raw).toString('hex'))).toMatch(/^blocks\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}\.blk$/);
  });

  it('a 1 TiB volume block map stays compact (21 MB raw) and round-trips', async () => {
    const b = BlockMap.builder();
    const id = Buffer.alloc(32);
    for (let i = 0; i < 524_288; i++) {
      id.writeUInt32LE(i, 0);
      b.add(i, 2 * 1024 * 1024, id);
    }
    const map = b.build();
    const bytes = await map.encode();
    expect(bytes.length).toBeLessThan(22 * 1024 * 1024);
    const back = await BlockMap.decode('k', bytes);
    expect(back.count).toBe(524_288);
    expect(back.find(400_000)).toBe(400_000);
    expect(back.at(400_000).id.readUInt32LE(0)).toBe(400_000);
  });
});
