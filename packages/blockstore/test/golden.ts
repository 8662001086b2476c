import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlockMap, SHA256, encodeBlock, encodeManifestForTest, type Manifest } from './golden-deps.js';

/** The golden store of format v1 (test-fixtures/format-v1/store), made by hand from its spec. */
export const GOLDEN_DIR = fileURLToPath(new URL('../../../test-fixtures/format-v1/store', import.meta.url));
/**
 * The same store as written before block objects were zstd level 1 from node:zlib (level 3 from
 * @mongodb-js/zstd): stores in the field hold such objects, and they must stay readable.
 */
export const GOLDEN_ZSTD3_DIR = fileURLToPath(new URL('../../../test-fixtures/format-v1/store-zstd3', import.meta.url));
export const GOLDEN_VOLUME = 'golden';
export const GOLDEN_ID = '20260101T000000000Z-000001';
const BS = 2 * 1024 * 1024;

/** The volume image the golden backup holds: text block, zero block, short text tail. */
export function goldenImage(): Buffer {
  const b0 = Buffer.alloc(BS);
  const line = Buffer.from('convoy golden block 0\n');
  for (let i = 0; i + line.length <= BS; i += line.length) line.copy(b0, i);
  const tail = Buffer.from('the last, short block of the golden volume\n'.repeat(20));
  return Buffer.concat([b0, Buffer.alloc(BS), tail]);
}

/** Writes the golden store (see golden-generate.ts). */
export async function writeGoldenStore(dir: string): Promise<void> {
  const img = goldenImage();
  const put = async (key: string, data: Buffer): Promise<void> => {
    await fs.mkdir(path.dirname(path.join(dir, key)), { recursive: true });
    await fs.writeFile(path.join(dir, key), data);
  };
  await put(
    'convoy.json',
    Buffer.from(
      `${JSON.stringify({ format: 'convoy-backupstore', version: 1, created: '2026-01-01T00:00:00.000Z', blockSize: BS, blockId: { algorithm: 'sha256' }, compression: 'zstd' }, null, 2)}\n`,
    ),
  );
  const builder = BlockMap.builder();
  for (const [index, data] of [
    [0, img.subarray(0, BS)],
    [2, img.subarray(2 * BS)],
  ] as const) {
    const id = SHA256.digest(data);
    builder.add(index, data.length, id);
    const hex = id.toString('hex');
    await put(`blocks/${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex}.blk`, await encodeBlock('zstd', Buffer.from(data)));
  }
  const map = builder.build();
  const mapBytes = await map.encode();
  const mapKey = `volumes/${GOLDEN_VOLUME}/backups/${GOLDEN_ID}.blocks`;
  await put(mapKey, mapBytes);
  const manifest: Manifest = {
    format: 'convoy-backup-manifest',
    version: 1,
    id: GOLDEN_ID,
    volume: GOLDEN_VOLUME,
    created: '2026-01-01T00:00:00.000Z',
    snapshot: 'snap-golden',
    size: img.length,
    blockSize: BS,
    compression: 'zstd',
    blockId: 'sha256',
    parent: null,
    labels: { fixture: 'format-v1' },
    blockMap: { key: mapKey, entries: map.count, sha256: createHash('sha256').update(mapBytes).digest('hex'), bytes: map.bytes },
    stats: { blocksTotal: 3, blocksNonZero: 2, blocksRead: 3, blocksUploaded: 2, bytesRead: img.length, bytesUploaded: 0, durationMs: 0 },
  };
  await put(`volumes/${GOLDEN_VOLUME}/backups/${GOLDEN_ID}.json`, encodeManifestForTest(manifest));
  await put(
    `volumes/${GOLDEN_VOLUME}/volume.json`,
    Buffer.from(
      `${JSON.stringify({ name: GOLDEN_VOLUME, size: img.length, created: manifest.created, updated: manifest.created, lastBackup: { id: GOLDEN_ID, created: manifest.created, snapshot: 'snap-golden' } }, null, 1)}\n`,
    ),
  );
}
