import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BlockMap,
  DEFAULT_GC,
  SHA256,
  encodeBlock,
  encodeHeader,
  encodeManifestForTest,
  encodeRefFile,
  type Manifest,
} from './golden-deps.js';
import { goldenImage } from './golden.js';

/**
 * The golden store of format v2 (test-fixtures/format-v2/store), written by hand from
 * docs/format.md: one backup merged into the index (generation 1), a second one committed but
 * still pending (its add marker), a third deleted (its tombstone, its block map kept until
 * maintenance), and a finished sweep record.
 */
export const GOLDEN_V2_DIR = fileURLToPath(new URL('../../../test-fixtures/format-v2/store', import.meta.url));
/** The same store as written with zstd level 3 from @mongodb-js/zstd (golden.ts, GOLDEN_ZSTD3_DIR). */
export const GOLDEN_V2_ZSTD3_DIR = fileURLToPath(new URL('../../../test-fixtures/format-v2/store-zstd3', import.meta.url));
export const V2_VOLUME = 'golden';
export const V2_IDS = ['20260101T000000000Z-000001', '20260102T000000000Z-000002', '20260103T000000000Z-000003'] as const;
const BS = 2 * 1024 * 1024;
const T = ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'] as const;

/** The images of backups 1 and 2 (backup 3's only block is `thirdBlock()`). */
export function v2Images(): [Buffer, Buffer] {
  const one = goldenImage();
  return [one, Buffer.from(one.subarray(0, BS))];
}

export function thirdBlock(): Buffer {
  return Buffer.from('the deleted backup held this block only\n'.repeat(1000));
}

const sortedIds = (ids: Buffer[]): Buffer => Buffer.concat([...ids].sort(Buffer.compare));

export async function writeGoldenV2Store(dir: string): Promise<void> {
  const put = async (key: string, data: Buffer): Promise<void> => {
    await fs.mkdir(path.dirname(path.join(dir, key)), { recursive: true });
    await fs.writeFile(path.join(dir, key), data);
  };
  await put(
    'convoy.json',
    encodeHeader({
      format: 'convoy-backupstore',
      version: 2,
      created: T[0],
      blockSize: BS,
      blockId: { algorithm: 'sha256' },
      compression: 'zstd',
      gc: DEFAULT_GC,
      encryption: null,
    }),
  );
  const [one, two] = v2Images();
  const backups: { id: string; created: string; blocks: [number, Buffer][]; size: number }[] = [
    {
      id: V2_IDS[0],
      created: T[0],
      blocks: [
        [0, one.subarray(0, BS)],
        [2, one.subarray(2 * BS)],
      ],
      size: one.length,
    },
    { id: V2_IDS[1], created: T[1], blocks: [[0, two]], size: two.length },
    { id: V2_IDS[2], created: T[2], blocks: [[0, thirdBlock()]], size: thirdBlock().length },
  ];
  const idsOf: Buffer[][] = [];
  for (const [n, b] of backups.entries()) {
    const builder = BlockMap.builder();
    const ids: Buffer[] = [];
    for (const [index, data] of b.blocks) {
      const id = SHA256.digest(data);
      builder.add(index, data.length, id);
      ids.push(id);
      const hex = id.toString('hex');
      await put(`blocks/${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex}.blk`, await encodeBlock('zstd', Buffer.from(data)));
    }
    idsOf.push(ids);
    const map = builder.build();
    const mapBytes = await map.encode();
    const mapKey = `volumes/${V2_VOLUME}/backups/${b.id}.blocks`;
    await put(mapKey, mapBytes);
    if (n === 2) continue; // deleted: its manifest is gone, its map waits for maintenance
    const manifest: Manifest = {
      format: 'convoy-backup-manifest',
      version: 1,
      id: b.id,
      volume: V2_VOLUME,
      created: b.created,
      snapshot: null,
      size: b.size,
      blockSize: BS,
      compression: 'zstd',
      blockId: 'sha256',
      parent: n === 0 ? null : (V2_IDS[0] as string),
      labels: { fixture: 'format-v2' },
      blockMap: { key: mapKey, entries: map.count, sha256: createHash('sha256').update(mapBytes).digest('hex'), bytes: map.bytes },
      stats: {
        blocksTotal: Math.ceil(b.size / BS),
        blocksNonZero: map.count,
        blocksRead: map.count,
        blocksUploaded: 0,
        bytesRead: b.size,
        bytesUploaded: 0,
        durationMs: 0,
      },
    };
    await put(`volumes/${V2_VOLUME}/backups/${b.id}.json`, encodeManifestForTest(manifest));
  }
  await put(
    `volumes/${V2_VOLUME}/volume.json`,
    Buffer.from(
      `${JSON.stringify({ name: V2_VOLUME, size: two.length, created: T[0], updated: T[2], lastBackup: { id: V2_IDS[1], created: T[1], snapshot: null } }, null, 1)}\n`,
    ),
  );

  // Backup 2 committed after the last maintenance: its add marker is pending.
  await put(`refs/pending/${V2_VOLUME}/${V2_IDS[1]}.add`, encodeRefFile('ids', sortedIds(idsOf[1] as Buffer[])));
  // Backup 3 was merged, then deleted: a tombstone.
  await put(
    `refs/pending/${V2_VOLUME}/${V2_IDS[2]}.del`,
    Buffer.from(`${JSON.stringify({ format: 'convoy-tombstone', volume: V2_VOLUME, id: V2_IDS[2], deleted: T[2] })}\n`),
  );

  // Generation 1: backups 1 and 3, one run per shard (first two hex digits of the id).
  const shards = new Map<string, Buffer[]>();
  for (const id of [...(idsOf[0] as Buffer[]), ...(idsOf[2] as Buffer[])]) {
    const rec = Buffer.alloc(36);
    id.copy(rec);
    rec.writeInt32LE(1, 32);
    const s = id.toString('hex', 0, 1);
    shards.set(s, [...(shards.get(s) ?? []), rec]);
  }
  const gen: {
    format: string;
    version: number;
    gen: number;
    created: string;
    shardDigits: number;
    shards: Record<string, { key: string; records: number; bytes: number }[]>;
    consumed: string[];
  } = {
    format: 'convoy-ref-index',
    version: 1,
    gen: 1,
    created: T[0],
    shardDigits: 2,
    shards: {},
    consumed: [],
  };
  for (const [s, recs] of [...shards.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    recs.sort((a, b) => Buffer.compare(a.subarray(0, 32), b.subarray(0, 32)));
    const body = encodeRefFile('counts', Buffer.concat(recs));
    const key = `refs/runs/${s}/000000000001-00000000.run`;
    await put(key, body);
    gen.shards[s] = [{ key, records: recs.length, bytes: body.length }];
  }
  await put('refs/index/000000000001.json', Buffer.from(`${JSON.stringify(gen)}\n`));
  await put('refs/latest.json', Buffer.from(`${JSON.stringify({ gen: 1 })}\n`));

  // A finished sweep that found nothing to delete.
  await put('gc/sweeps/golden-0.ids', encodeRefFile('ids', Buffer.alloc(0)));
  await put(
    'gc/sweeps/golden-0.json',
    Buffer.from(
      `${JSON.stringify({ format: 'convoy-sweep', version: 1, name: 'golden-0', state: 'done', markedAt: T[0], doomedKey: 'gc/sweeps/golden-0.ids', doomed: 0, markedBy: 'golden', sweptBy: 'golden', doneAt: T[1] }, null, 1)}\n`,
    ),
  );
}
