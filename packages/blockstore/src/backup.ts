import { createHash } from 'node:crypto';
import type { ObjectStore } from '@convoy/objectstore';
import { invalidInput } from './errors.js';
import { BlockMap, type BlockMap as BlockMapT } from './format/block-map.js';
import { encodeBlock } from './format/block-object.js';
import type { Compression } from './format/codec.js';
import { openOrInitStore } from './format/header.js';
import { blockKey, blockMapKey, manifestKey, volumeKey } from './format/layout.js';
import { encodeManifest, readBlockMap, readManifest, readVolumeRecord, type Manifest, type VolumeRecord } from './format/manifest.js';
import { newBackupId, validateVolumeName } from './format/names.js';
import { latestBackupId } from './list.js';
import { acquireLock } from './lock.js';
import { forEachIndex } from './pool.js';
import type { ProgressCallback } from './progress.js';
import type { Extent, SnapshotSource } from './source.js';
import { formatBackupUrl } from './url.js';

export interface BackupOptions {
  store: ObjectStore;
  volume: string;
  source: SnapshotSource;
  /** Name of the snapshot the source is (recorded in the manifest). */
  snapshot?: string;
  /**
   * The backup to be incremental against: an id, 'latest' (default: the volume's newest backup,
   * if any), or null for a full backup.
   */
  parent?: string | 'latest' | null;
  /** Extents changed since the parent's snapshot: only these blocks are read. Requires a parent. */
  changed?: readonly Extent[];
  compression?: Compression;
  labels?: Record<string, string>;
  /** Blocks processed concurrently (read, hash, compress, upload); bounds memory at ~4 MiB each. */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  now?: () => Date;
  lockTtlMs?: number;
  lockWaitMs?: number;
}

export interface BackupResult {
  manifest: Manifest;
  url: string;
}

const ZERO = Buffer.alloc(2 * 1024 * 1024);

export function isZero(buf: Buffer): boolean {
  for (let o = 0; o < buf.length; o += ZERO.length) {
    const n = Math.min(ZERO.length, buf.length - o);
    if (!buf.subarray(o, o + n).equals(ZERO.subarray(0, n))) return false;
  }
  return true;
}

/**
 * Backs up a snapshot as fixed-size blocks (docs/format.md): zero blocks are skipped, blocks
 * already in the store are not uploaded, blocks go up before the block map and the manifest,
 * which is written last and only-if-absent. With `changed`, only changed blocks are read and the
 * rest are taken from the parent's block map.
 */
export async function backupVolume(options: BackupOptions): Promise<BackupResult> {
  const { store, volume, source, signal } = options;
  validateVolumeName(volume);
  const now = options.now ?? (() => new Date());
  const started = Date.now();
  const compressionDefault = options.compression;
  const opened = await openOrInitStore(store, { compression: compressionDefault ?? 'zstd', now: now() }, signal);
  const compression = compressionDefault ?? opened.header.compression;
  const bs = opened.header.blockSize;
  const lock = await acquireLock(store, {
    kind: 'backup',
    volume,
    ...(signal === undefined ? {} : { signal }),
    ...(options.lockTtlMs === undefined ? {} : { ttlMs: options.lockTtlMs }),
    ...(options.lockWaitMs === undefined ? {} : { waitMs: options.lockWaitMs }),
  });
  try {
    // Parent: its block map gives the unchanged blocks (with a change list) and known block ids.
    const latest = await latestBackupId(store, volume, signal);
    const parentId = options.parent === null ? undefined : options.parent === undefined || options.parent === 'latest' ? latest : options.parent;
    let parent: { manifest: Manifest; map: BlockMapT } | undefined;
    if (parentId !== undefined) {
      const manifest = await readManifest(store, volume, parentId, signal);
      parent = { manifest, map: await readBlockMap(store, manifest, signal) };
    }
    if (options.changed !== undefined && parent === undefined) {
      throw invalidInput(`a changed-extent list needs a parent backup, and volume ${volume} has none`, 'make a full backup first (without --changed)');
    }
    const useChanges = options.changed !== undefined && parent !== undefined && parent.manifest.blockSize === bs;
    const blocks = Math.ceil(source.size / bs);
    const changed = useChanges ? changedBitmap(options.changed ?? [], blocks, bs, source.size, parent?.manifest.size ?? 0) : undefined;
    const known = new Set<string>(parent?.map.ids() ?? []);
    const builder = BlockMap.builder();
    const stats = { blocksTotal: blocks, blocksNonZero: 0, blocksRead: 0, blocksUploaded: 0, bytesRead: 0, bytesUploaded: 0, durationMs: 0 };
    let blocksDone = 0;
    let bytesDone = 0;
    const report = (): void =>
      options.onProgress?.({ phase: 'backup', bytesDone, bytesTotal: source.size, blocksDone, blocksTotal: blocks, bytesTransferred: stats.bytesUploaded });

    // One read buffer per block in flight, reused: nothing keeps a block's bytes once its put
    // resolved (stores copy or write them), and fresh 2 MiB buffers per block cost page faults and GC.
    const free: Buffer[] = [];
    await forEachIndex(
      blocks,
      options.concurrency ?? 6,
      async (i) => {
        const offset = i * bs;
        const length = Math.min(bs, source.size - offset);
        if (changed !== undefined && changed[i] === 0 && parent !== undefined) {
          const at = parent.map.find(i);
          if (at >= 0) {
            const e = parent.map.at(at);
            builder.add(i, e.length, Buffer.from(e.id));
            stats.blocksNonZero++;
          }
        } else {
          const buf = free.pop() ?? Buffer.allocUnsafe(bs);
          try {
            const data = await source.read(offset, length, signal, buf);
            stats.blocksRead++;
            stats.bytesRead += length;
            if (!isZero(data)) {
              stats.blocksNonZero++;
              const id = opened.ids.digest(data);
              const hex = id.toString('hex');
              if (!known.has(hex)) {
                known.add(hex); // claim it: a concurrent worker with the same content skips
                const key = blockKey(hex);
                if ((await store.stat(key, signal === undefined ? {} : { signal })) === undefined) {
                  const obj = await encodeBlock(compression, data);
                  await store.put(key, obj, signal === undefined ? {} : { signal });
                  stats.blocksUploaded++;
                  stats.bytesUploaded += obj.length;
                }
              }
              builder.add(i, length, id);
            }
          } finally {
            free.push(buf);
          }
        }
        blocksDone++;
        bytesDone += length;
        report();
      },
      signal,
    );

    const map = builder.build();
    const id = newBackupId(now(), latest);
    const mapBytes = await map.encode();
    await store.put(blockMapKey(volume, id), mapBytes, signal === undefined ? {} : { signal });
    stats.durationMs = Date.now() - started;
    const manifest: Manifest = {
      format: 'convoy-backup-manifest',
      version: 1,
      id,
      volume,
      created: now().toISOString(),
      snapshot: options.snapshot ?? null,
      size: source.size,
      blockSize: bs,
      compression,
      blockId: opened.ids.algorithm,
      parent: parent?.manifest.id ?? null,
      labels: options.labels ?? {},
      blockMap: { key: blockMapKey(volume, id), entries: map.count, sha256: createHash('sha256').update(mapBytes).digest('hex'), bytes: map.bytes },
      stats,
    };
    signal?.throwIfAborted();
    lock.assertHeld(); // never commit if GC may have run meanwhile
    await store.put(manifestKey(volume, id), encodeManifest(manifest), { ifAbsent: true });
    await writeVolumeRecord(store, volume, manifest, now());
    return { manifest, url: formatBackupUrl(store.location, volume, id) };
  } finally {
    await lock.release();
  }
}

async function writeVolumeRecord(store: ObjectStore, volume: string, m: Manifest, now: Date): Promise<void> {
  const prev = await readVolumeRecord(store, volume);
  const rec: VolumeRecord = {
    name: volume,
    size: m.size,
    created: prev?.created ?? now.toISOString(),
    updated: now.toISOString(),
    lastBackup: { id: m.id, created: m.created, snapshot: m.snapshot },
  };
  await store.put(volumeKey(volume), Buffer.from(`${JSON.stringify(rec, null, 1)}\n`));
}

/**
 * 1 for every block to read: blocks touched by a changed extent, and blocks past the parent's end
 * (the volume grew; the parent's last, partial block too).
 */
function changedBitmap(changed: readonly Extent[], blocks: number, bs: number, size: number, parentSize: number): Uint8Array {
  const bits = new Uint8Array(blocks);
  for (const e of changed) {
    if (e.length === 0) continue;
    if (e.offset >= size) continue;
    const first = Math.floor(e.offset / bs);
    const last = Math.min(blocks - 1, Math.floor((Math.min(size, e.offset + e.length) - 1) / bs));
    bits.fill(1, first, last + 1);
  }
  const parentFull = Math.floor(parentSize / bs); // blocks wholly inside the parent
  if (size !== parentSize) bits.fill(1, Math.min(blocks, parentFull));
  return bits;
}
