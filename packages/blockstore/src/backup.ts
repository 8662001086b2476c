import { createHash } from 'node:crypto';
import type { ObjectStore } from '@convoy/objectstore';
import { systemClock, type Clock } from './clock.js';
import { afterCommit, commitBackup, goneFromSource, putOnce } from './commit.js';
import { chooseParentBackup } from './parent.js';
import { changedBitmap } from './block-bits.js';
import { scanBlock } from './block-scan.js';
import { BlockstoreError, invalidInput } from './errors.js';
import { confirmWritten } from './confirm-writes.js';
import { BlockMap, type BlockMap as BlockMapT } from './format/block-map.js';
import { BLOCK_HEADER, encodeBlock, encodeFramedBlock } from './format/block-object.js';
import type { Compression } from './format/codec.js';
import { openOrInitStore } from './format/header.js';
import { blockKey, blockMapKey, manifestKey } from './format/layout.js';
import { encodeManifest, isDirectoryManifest, readBlockMap, readManifest, type Manifest } from './format/manifest.js';
import { newBackupId } from './format/names.js';
import { validateVolumeName } from '@convoy/rules';
import { sweepsDoneAtStart, type GuardResult } from './gc/commit-guard.js';
import { listDamaged } from './gc/damaged.js';
import { IdSet } from './id-claims.js';
import { listBackupIds } from './list.js';
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
  /** Timestamps (default: clock.now). */
  now?: () => Date;
  clock?: Clock;
  lockTtlMs?: number;
  lockWaitMs?: number;
  /** Called when the backup must wait for a GC sweep before committing (rare). */
  onWait?: (what: string) => void;
}

export interface BackupResult {
  manifest: Manifest;
  url: string;
  /** Format v2: what the commit check did (docs/gc-safety.md). */
  guard?: GuardResult;
}

/**
 * Backs up a snapshot as fixed-size blocks (docs/format.md): zero blocks are skipped, and holes the
 * source knows of (`isHole`: a sparse file's) are not even read; a block
 * read from the source is uploaded unless the store holds it (checked, never assumed: a missing
 * block is uploaded again, and one known damaged is overwritten); blocks go up before the block
 * map, the add marker (v2) and the manifest, which is written last and only-if-absent. With
 * `changed`, only changed blocks are read and the rest are taken from the parent's block map.
 */
export async function backupVolume(options: BackupOptions): Promise<BackupResult> {
  const { store, volume, source, signal } = options;
  validateVolumeName(volume);
  const clock = options.clock ?? systemClock;
  const now = options.now ?? (() => clock.now());
  const started = clock.monotonic();
  const opened = await openOrInitStore(store, { compression: options.compression ?? 'zstd', now: now() }, signal);
  const compression = options.compression ?? opened.header.compression;
  const bs = opened.header.blockSize;
  const v2 = opened.header.version === 2;
  const sig = { signal };
  const lease = {
    lock: await acquireLock(store, {
      kind: 'backup',
      volume,
      clock,
      ...sig,
      ttlMs: options.lockTtlMs,
      waitMs: options.lockWaitMs,
    }),
  };
  try {
    const doneAtStart = v2 ? await sweepsDoneAtStart(store, signal) : new Set<string>();
    const damaged = v2 ? await listDamaged(store, signal) : new IdSet();
    const ids = await listBackupIds(store, volume, signal);
    const latest = ids.at(-1);
    const parent = await chooseParent(store, volume, ids, options.parent, signal);
    if (options.changed !== undefined && latest === undefined) {
      throw invalidInput(
        `a changed-extent list needs a parent backup, and volume ${volume} has none`,
        'make a full backup first (without --changed)',
      );
    }
    // A change list is relative to the newest backup's snapshot: with an older parent (the newest
    // is damaged) every block is read instead.
    const useChanges =
      options.changed !== undefined && parent !== undefined && parent.manifest.id === latest && parent.manifest.blockSize === bs;
    const blocks = Math.ceil(source.size / bs);
    const changed = useChanges ? changedBitmap(options.changed ?? [], blocks, bs, source.size, parent?.manifest.size ?? 0) : undefined;
    const claimed = new IdSet(); // ids this backup already handled: a concurrent worker with the same content skips
    const repaired: string[] = [];
    const uploaded: string[] = []; // keys of the blocks this backup wrote, confirmed before it commits
    const builder = BlockMap.builder();
    const stats = {
      blocksTotal: blocks,
      blocksNonZero: 0,
      blocksRead: 0,
      blocksUploaded: 0,
      bytesRead: 0,
      bytesUploaded: 0,
      durationMs: 0,
    };
    let blocksDone = 0;
    let bytesDone = 0;
    const report = (): void =>
      options.onProgress?.({
        phase: 'backup',
        bytesDone,
        bytesTotal: source.size,
        blocksDone,
        blocksTotal: blocks,
        bytesTransferred: stats.bytesUploaded,
      });

    // One frame per block in flight, reused: room for the block object's header, then the block as
    // read. It travels to a hashing thread and back (block-scan.ts), and a block stored as is goes to
    // the store from it (encodeFramedBlock); nothing keeps it once the put settled (ObjectStore.put).
    // Fresh 2 MiB buffers per block cost page faults and GC.
    const free: Buffer[] = [];
    await forEachIndex(
      blocks,
      options.concurrency ?? 6,
      async (i) => {
        const offset = i * bs;
        const length = Math.min(bs, source.size - offset);
        const at = changed !== undefined && changed[i] === 0 && parent !== undefined ? parent.map.find(i) : undefined;
        if (at !== undefined) {
          if (at >= 0) {
            const e = (parent as { map: BlockMapT }).map.at(at);
            builder.add(i, e.length, Buffer.from(e.id));
            stats.blocksNonZero++;
          }
        } else if (source.isHole?.(offset, length) !== true) {
          let frame: Buffer | undefined = free.pop() ?? Buffer.allocUnsafeSlow(BLOCK_HEADER + bs);
          try {
            const data = await source.read(offset, length, signal, frame.subarray(BLOCK_HEADER));
            if (data.buffer !== frame.buffer || data.byteOffset !== frame.byteOffset + BLOCK_HEADER) data.copy(frame, BLOCK_HEADER);
            stats.blocksRead++;
            stats.bytesRead += length;
            const sent: Buffer = frame;
            frame = undefined; // in transit: lost if the scan fails
            const scanned = await scanBlock(opened.ids, sent.subarray(BLOCK_HEADER, BLOCK_HEADER + length), {
              zeroCheck: true,
              transfer: true,
            });
            frame = Buffer.from(scanned.data.buffer, 0, BLOCK_HEADER + bs);
            if (scanned.id !== undefined) {
              stats.blocksNonZero++;
              const id = scanned.id;
              const hex = id.toString('hex');
              if (claimed.add(hex)) {
                const bad = damaged.has(hex);
                if (bad || (await store.stat(blockKey(hex), sig)) === undefined) {
                  const toEncode = frame;
                  frame = undefined; // may travel to a block thread: lost if encoding fails
                  const encoded = await encodeFramedBlock(compression, toEncode, length, { objectHash: store.hashesPayloads === true });
                  frame = encoded.frame;
                  const obj = encoded.object;
                  // made durable together before anything refers to them (the flush below)
                  await store.put(blockKey(hex), obj, { ...sig, deferred: true, sha256: encoded.sha256 });
                  uploaded.push(blockKey(hex));
                  stats.blocksUploaded++;
                  stats.bytesUploaded += obj.length;
                  if (bad) repaired.push(hex);
                }
              }
              builder.add(i, length, id);
            }
          } finally {
            if (frame !== undefined) free.push(frame);
          }
        }
        blocksDone++;
        bytesDone += length;
        report();
      },
      signal,
    );

    await store.flush?.(sig);
    const map = builder.build();
    const id = newBackupId(now(), latest);
    const mapBytes = await map.encode();
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
      blockMap: {
        key: blockMapKey(volume, id),
        entries: map.count,
        sha256: createHash('sha256').update(mapBytes).digest('hex'),
        bytes: map.bytes,
      },
      stats,
    };
    let guard: GuardResult | undefined;
    let committed: Manifest;
    if (v2) {
      const restore = async (hex: string): Promise<void> => {
        const want = Buffer.from(hex, 'hex');
        for (const pos of map.positionsOf(want)) {
          const e = map.at(pos);
          const data = await source.read(e.index * bs, e.length, signal);
          if (!opened.ids.digest(data).equals(want)) continue;
          await store.put(blockKey(hex), await encodeBlock(compression, data), sig);
          return;
        }
        throw goneFromSource(hex);
      };
      ({ guard, manifest: committed } = await commitBackup({
        opened,
        lease,
        manifest,
        ids: map.uniqueIds(),
        mapBytes,
        uploaded,
        restore,
        doneAtStart,
        started,
        clock,
        signal,
        onWait: options.onWait,
        lockTtlMs: options.lockTtlMs,
      }));
    } else {
      await putOnce(store, blockMapKey(volume, id), mapBytes, signal);
      await confirmWritten(store, [blockMapKey(volume, id), ...uploaded], 'nothing was committed', signal);
      signal?.throwIfAborted();
      lease.lock.assertHeld(); // never commit if GC may have run meanwhile
      committed = { ...manifest, stats: { ...stats, durationMs: Math.round(clock.monotonic() - started) } };
      await store.put(manifestKey(volume, id), encodeManifest(committed), { ifAbsent: true });
      await confirmWritten(store, [manifestKey(volume, id)], 'the backup was not committed', signal);
    }
    await afterCommit(store, committed, repaired, now());
    return { manifest: committed, url: formatBackupUrl(store.location, volume, id), guard };
  } finally {
    await lease.lock.release();
  }
}

/** The parent of a block-image incremental (parent.ts): a directory backup is no block image to be incremental on. */
function chooseParent(
  store: ObjectStore,
  volume: string,
  ids: readonly string[],
  wanted: string | null | undefined,
  signal: AbortSignal | undefined,
): Promise<{ manifest: Manifest; map: BlockMapT } | undefined> {
  return chooseParentBackup({
    ids,
    wanted,
    read: async (id) => {
      const manifest = await readManifest(store, volume, id, signal);
      return isDirectoryManifest(manifest) ? undefined : { manifest, map: await readBlockMap(store, manifest, signal) };
    },
    incompatible: (id) =>
      new BlockstoreError(
        'CONVOY_BACKUP_INCOMPATIBLE',
        `backup ${id} of ${volume} is a directory backup; a block-image backup cannot be incremental on it`,
        {
          hint: 'name a block-image backup with --parent, or none',
        },
      ),
  });
}
