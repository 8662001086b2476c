import type fs from 'node:fs/promises';
import type { ObjectStore } from '@convoy/objectstore';
import { isZero, releaseMemory } from './block-bits.js';
import { fetchBlock } from './block-reader.js';
import { BlockstoreError } from './errors.js';
import type { BlockMap } from './format/block-map.js';
import { readHeader, type OpenedStore } from './format/header.js';
import { isDirectoryManifest, readBlockMap, readManifest, type Manifest } from './format/manifest.js';
import { acquireLock, type StoreLock } from './lock.js';
import { forEachIndex } from './pool.js';
import type { ProgressCallback } from './progress.js';
import { checkDeviceSize, finishTarget, openTarget, readFully, writeFully } from './restore-target.js';

export interface RestoreOptions {
  store: ObjectStore;
  volume: string;
  id: string;
  /** A file (created sparse) or a block device. */
  target: string;
  /**
   * Update a target that already holds an earlier state of this volume: every target block is
   * read and hashed, and only blocks that differ are fetched and written.
   */
  incremental?: boolean;
  /**
   * The target (a block device) reads as zeros already, e.g. a fresh thin volume: zero blocks are
   * not written (on a thin device writing them would allocate the whole volume) and the target is
   * not read. Only the backup's non-zero blocks are fetched and written.
   */
  targetIsZeroed?: boolean;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

export interface RestoreResult {
  manifest: Manifest;
  blocksWritten: number;
  bytesFetched: number;
}

/**
 * Restores a backup. A new or regular-file target is written to a temporary file beside it and
 * renamed into place only when every block was fetched and verified: a failed restore leaves the
 * old target (or none), never a silently wrong one. Block devices are written in place, after
 * checking they are large enough; a failure there says so.
 *
 * The restore lock is taken before the manifest is read, so a delete cannot remove the backup (or
 * collect its blocks) between reading its manifest and fetching its blocks.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const { store, signal } = options;
  const target = await openTarget(options);
  const { fh, inPlace } = target;
  let lock: StoreLock | undefined;
  let writing = false;
  let ok = false;
  try {
    // The header before the lock: a store of an unsupported format is refused before anything is
    // written to it (docs/format.md), a lock included. It never changes, so reading it early is safe.
    const opened = await readHeader(store, signal);
    lock = await acquireLock(store, { kind: 'restore', volume: options.volume, signal });
    const manifest = await readManifest(store, options.volume, options.id, signal);
    if (isDirectoryManifest(manifest)) {
      throw new BlockstoreError(
        'CONVOY_BACKUP_INCOMPATIBLE',
        `backup ${manifest.id} of ${manifest.volume} is a directory backup, not a block image`,
        {
          hint: 'restore it into a directory: convoy-backup restore URL DIR',
        },
      );
    }
    const map = await readBlockMap(store, manifest, signal);
    if (target.device) await checkDeviceSize(fh, options.target, manifest.size);
    writing = true;
    if (!target.device) await fh.truncate(manifest.size); // new file: all holes; incremental: adjust the size
    const counts = await writeBlocks({ fh, opened, manifest, map, inPlace, options });
    await fh.sync();
    ok = true;
    return { manifest, ...counts };
  } catch (err) {
    if (inPlace && writing && err instanceof Error) {
      throw new BlockstoreError(
        'CONVOY_RESTORE_INCOMPLETE',
        `restore into ${options.target} failed part-way; the target is incomplete: ${err.message}`,
        {
          hint: 'fix the cause and run the restore again; do not use the target until it succeeds',
          cause: err,
        },
      );
    }
    throw err;
  } finally {
    try {
      await finishTarget(target, options.target, ok);
    } finally {
      await lock?.release(); // whatever happened to the target: a lock left behind blocks deletes until it expires
    }
  }
}

interface WriteContext {
  fh: fs.FileHandle;
  opened: OpenedStore;
  manifest: Manifest;
  map: BlockMap;
  inPlace: boolean;
  options: RestoreOptions;
}

async function writeBlocks({ fh, opened, manifest, map, inPlace, options }: WriteContext): Promise<Omit<RestoreResult, 'manifest'>> {
  const { signal } = options;
  const bs = manifest.blockSize;
  const blocks = Math.ceil(manifest.size / bs);
  const zero = Buffer.alloc(bs);
  let blocksWritten = 0;
  let bytesFetched = 0;
  let blocksDone = 0;
  let bytesDone = 0;
  // One write at a time: concurrent pwrite(2)s to one file contend for its inode lock (measured:
  // seconds of system time spinning per GiB on ext4), while fetching and decoding run ahead.
  let writing: Promise<void> = Promise.resolve();
  const write = (data: Buffer, offset: number): Promise<void> => {
    const done = writing.then(() => writeFully(fh, data, offset, options.target));
    writing = done.catch(() => undefined);
    return done;
  };
  const writeBlock = async (i: number): Promise<void> => {
    const offset = i * bs;
    const length = Math.min(bs, manifest.size - offset);
    const at = map.find(i);
    const entry = at >= 0 ? map.at(at) : undefined;
    if (inPlace && options.incremental === true) {
      const cur = Buffer.allocUnsafe(length);
      await readFully(fh, cur, offset);
      const same = entry === undefined ? isZero(cur) : opened.ids.digest(cur).equals(entry.id);
      if (same) return;
    }
    if (entry === undefined) {
      if (inPlace && options.targetIsZeroed !== true) {
        await write(zero.subarray(0, length), offset);
        blocksWritten++;
      }
      return;
    }
    const { data, stored } = await fetchBlock(opened, entry.id.toString('hex'), signal);
    bytesFetched += stored;
    if (data.length !== length)
      throw new BlockstoreError('CONVOY_BLOCK_CORRUPT', `block ${i} of backup ${manifest.id} has ${data.length} bytes, expected ${length}`);
    await write(data, offset);
    releaseMemory(data); // fetchBlock's memory is ours alone: freed now, not after 64 MiB of garbage
    blocksWritten++;
  };
  await forEachIndex(
    blocks,
    options.concurrency ?? 6,
    async (i) => {
      await writeBlock(i);
      blocksDone++;
      bytesDone += Math.min(bs, manifest.size - i * bs);
      options.onProgress?.({
        phase: 'restore',
        bytesDone,
        bytesTotal: manifest.size,
        blocksDone,
        blocksTotal: blocks,
        bytesTransferred: bytesFetched,
      });
    },
    signal,
  );
  return { blocksWritten, bytesFetched };
}
