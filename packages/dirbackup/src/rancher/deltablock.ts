// restoreRancherDeltablock: one of Rancher Convoy v0.5.2's devicemapper backups into a file or a
// block device, bit for bit (the format: deltablock-format.ts). Every block fetched is checked
// against its checksum; a missing or damaged one stops the restore naming the object, never
// leaving zeros in its place.
import type fs from 'node:fs/promises';
import { checkDeviceSize, finishTarget, forEachIndex, openTarget, writeFully, type ProgressCallback } from '@convoy/blockstore';
import { ConvoyError } from '@convoy/errors';
import { ObjectNotFoundError, type ObjectStore } from '@convoy/objectstore';
import {
  DELTABLOCK_SIZE,
  ZERO_BLOCK_CHECKSUM,
  decodeDeltablock,
  deltablockKey,
  deltablockList,
  deltablockMissing,
  type DeltaBlock,
} from './deltablock-format.js';
import { inspectRancherBackup, type RancherBackupInfo } from './list.js';
import { readRancherBackup, readRancherVolume } from './records.js';

export interface DeltablockRestoreOptions {
  store: ObjectStore;
  volume: string;
  /** Convoy's backup name (backup-<16 hex>). */
  name: string;
  /** A file (a new one, or one replaced when the restore is complete) or a block device (written in place). */
  target: string;
  /**
   * The target (a block device) reads as zeros already, e.g. a fresh thin volume: blocks of zeros
   * are not written (on a thin device that would allocate them). Otherwise a device gets zeros
   * written wherever the backup has none of its blocks; a file gets holes there.
   */
  targetIsZeroed?: boolean;
  concurrency?: number;
  signal?: AbortSignal | undefined;
  onProgress?: ProgressCallback | undefined;
}

export interface DeltablockRestoreResult {
  backup: RancherBackupInfo;
  /** The volume's size: the bytes the target holds. */
  size: number;
  /** Blocks written with data (not counting zeros written to a device). */
  blocksWritten: number;
  bytesFetched: number;
}

/**
 * The deltablock backup's size and block list, checked (CONVOY_BACKUP_NOT_FOUND,
 * CONVOY_BACKUP_INCOMPATIBLE for a vfs backup, CONVOY_RANCHER_RECORD_CORRUPT). Nothing is written.
 */
export async function checkRancherDeltablock(
  store: ObjectStore,
  volume: string,
  name: string,
  signal?: AbortSignal,
): Promise<{ info: RancherBackupInfo; size: number; blocks: DeltaBlock[] }> {
  const info = await inspectRancherBackup(store, volume, name, signal);
  if (info.driver !== 'devicemapper') {
    throw new ConvoyError(
      'CONVOY_BACKUP_INCOMPATIBLE',
      `${name} of volume ${volume} is a Rancher Convoy vfs backup (a directory archive), not a block image`,
      { hint: 'restore it into a directory (convoy-backup restore URL DIR) or a vfs volume (--driver vfs)', details: { volume, name } },
    );
  }
  const [v, b] = await Promise.all([readRancherVolume(store, volume, signal), readRancherBackup(store, volume, name, signal)]);
  if (v === undefined || b === undefined) throw new ConvoyError('CONVOY_BACKUP_NOT_FOUND', `Rancher Convoy backup ${name} is gone`);
  return { info, ...deltablockList(b, v) };
}

export async function restoreRancherDeltablock(options: DeltablockRestoreOptions): Promise<DeltablockRestoreResult> {
  const { store, signal } = options;
  const { info, size, blocks } = await checkRancherDeltablock(store, options.volume, options.name, signal);
  const target = await openTarget({ target: options.target, targetIsZeroed: options.targetIsZeroed });
  let ok = false;
  let writing = false;
  try {
    if (target.device) await checkDeviceSize(target.fh, options.target, size);
    else await target.fh.truncate(size); // a new file: all holes
    writing = true;
    // An existing device may hold anything: zeros go wherever the backup has no data.
    const zeroGaps = target.device && options.targetIsZeroed !== true;
    const counts = await writeBlocks(options, target.fh, { size, blocks, zeroGaps });
    await target.fh.sync();
    ok = true;
    return { backup: info, size, ...counts };
  } catch (err) {
    if (target.inPlace && writing && err instanceof Error) {
      throw new ConvoyError(
        'CONVOY_RESTORE_INCOMPLETE',
        `restore into ${options.target} failed part-way; the target is incomplete: ${err.message}`,
        {
          hint: 'fix the cause and run the restore again; do not use the target until it succeeds',
          cause: err,
          ...(err instanceof ConvoyError && err.details !== undefined ? { details: err.details } : {}),
        },
      );
    }
    throw err;
  } finally {
    await finishTarget(target, options.target, ok);
  }
}

interface Plan {
  size: number;
  blocks: DeltaBlock[];
  zeroGaps: boolean;
}

async function writeBlocks(
  o: DeltablockRestoreOptions,
  fh: fs.FileHandle,
  plan: Plan,
): Promise<Omit<DeltablockRestoreResult, 'backup' | 'size'>> {
  const count = plan.size / DELTABLOCK_SIZE;
  const byIndex = new Map(plan.blocks.map((b) => [b.offset / DELTABLOCK_SIZE, b.checksum]));
  const zero = Buffer.alloc(DELTABLOCK_SIZE);
  let blocksWritten = 0;
  let bytesFetched = 0;
  let blocksDone = 0;
  const write = async (i: number): Promise<void> => {
    const checksum = byIndex.get(i);
    const offset = i * DELTABLOCK_SIZE;
    if (checksum === undefined || checksum === ZERO_BLOCK_CHECKSUM) {
      // zeros: known without a fetch (Convoy stored mapped blocks of zeros, e.g. ext4's lazy inode tables)
      if (plan.zeroGaps) await writeFully(fh, zero, offset, o.target);
      return;
    }
    const key = deltablockKey(o.volume, checksum);
    let stored: Buffer;
    try {
      stored = await o.store.get(key, { signal: o.signal });
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw deltablockMissing(key, o.name);
      throw err;
    }
    bytesFetched += stored.length;
    await writeFully(fh, await decodeDeltablock(key, checksum, stored), offset, o.target);
    blocksWritten++;
  };
  await forEachIndex(
    count,
    o.concurrency ?? 6,
    async (i) => {
      await write(i);
      blocksDone++;
      o.onProgress?.({
        phase: 'restore',
        bytesDone: blocksDone * DELTABLOCK_SIZE,
        bytesTotal: plan.size,
        blocksDone,
        blocksTotal: count,
        bytesTransferred: bytesFetched,
      });
    },
    o.signal,
  );
  return { blocksWritten, bytesFetched };
}
