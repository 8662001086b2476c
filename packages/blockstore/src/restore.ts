import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '@convoy/objectstore';
import { isZero } from './backup.js';
import { fetchBlock } from './block-reader.js';
import { BlockstoreError } from './errors.js';
import type { BlockMap } from './format/block-map.js';
import { readHeader, type OpenedStore } from './format/header.js';
import { isDirectoryManifest, readBlockMap, readManifest, type Manifest } from './format/manifest.js';
import { acquireLock, type StoreLock } from './lock.js';
import { forEachIndex } from './pool.js';
import type { ProgressCallback } from './progress.js';
import { openFileSize } from './source.js';

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
      await fh.close();
      if (!inPlace) {
        if (ok) {
          await fs.rename(target.out, options.target);
          const dh = await fs.open(path.dirname(options.target), constants.O_RDONLY);
          await dh.sync().catch(() => undefined);
          await dh.close();
        } else {
          await fs.rm(target.out, { force: true });
        }
      }
    } finally {
      await lock?.release(); // whatever happened to the target: a lock left behind blocks deletes until it expires
    }
  }
}

interface OpenTarget {
  fh: fs.FileHandle;
  /** The file written: the target itself (in place) or a temporary file beside it. */
  out: string;
  inPlace: boolean;
  device: boolean;
}

/** Checks the target and opens what the restore writes; touches no store. */
async function openTarget(options: RestoreOptions): Promise<OpenTarget> {
  const st = await fs.stat(options.target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const device = st?.isBlockDevice() === true;
  if (st !== undefined && !device && !st.isFile()) {
    throw new BlockstoreError('CONVOY_TARGET_INVALID', `restore target ${options.target} is neither a file nor a block device`);
  }
  if (options.incremental === true && st === undefined) {
    throw new BlockstoreError('CONVOY_TARGET_INVALID', `--incremental needs an existing target, and ${options.target} does not exist`, {
      hint: 'restore without --incremental first',
    });
  }
  if (!device) await removeStaleTempFiles(options.target);
  const inPlace = device || options.incremental === true || (options.targetIsZeroed === true && st !== undefined);
  const out = inPlace ? options.target : tempFileName(options.target, process.pid);
  try {
    const fh = await fs.open(out, inPlace ? constants.O_RDWR : constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    return { fh, out, inPlace, device };
  } catch (err) {
    throw new BlockstoreError(
      'CONVOY_TARGET_INVALID',
      `cannot open restore target ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        hint: 'check that the target directory exists and is writable',
        cause: err,
      },
    );
  }
}

/** Refuses a device smaller than the backup, before anything is written to it. */
async function checkDeviceSize(fh: fs.FileHandle, target: string, backupSize: number): Promise<void> {
  const size = await openFileSize(fh);
  if (size < backupSize) {
    throw new BlockstoreError(
      'CONVOY_TARGET_INVALID',
      `device ${target} (${size} bytes) is smaller than the backup (${backupSize} bytes)`,
      {
        hint: 'restore onto a device at least as large as the backup, or into a file',
        details: { deviceBytes: size, backupBytes: backupSize },
      },
    );
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
        await writeFully(fh, zero.subarray(0, length), offset, options.target);
        blocksWritten++;
      }
      return;
    }
    const { data, stored } = await fetchBlock(opened, entry.id.toString('hex'), signal);
    bytesFetched += stored;
    if (data.length !== length)
      throw new BlockstoreError('CONVOY_BLOCK_CORRUPT', `block ${i} of backup ${manifest.id} has ${data.length} bytes, expected ${length}`);
    await writeFully(fh, data, offset, options.target);
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

/** What `writeFully` needs of a file handle (a `FileHandle` has it). */
export interface PositionalWriter {
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
}

/**
 * Writes all of `buf` at `position`. A write may take fewer bytes than asked (pwrite returns what
 * it wrote), so this writes the rest until done; a write that takes nothing is an error, never a
 * loop.
 */
export async function writeFully(fh: PositionalWriter, buf: Buffer, position: number, name = 'the restore target'): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (!(bytesWritten > 0)) {
      throw new BlockstoreError(
        'CONVOY_TARGET_WRITE_FAILED',
        `writing ${name} at byte ${position + done} wrote nothing (${buf.length - done} bytes left to write)`,
        {
          hint: 'check the target: a full file system, or a device smaller than it says',
        },
      );
    }
    done += bytesWritten;
  }
}

async function readFully(fh: fs.FileHandle, buf: Buffer, offset: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, offset + done);
    if (bytesRead === 0) {
      buf.fill(0, done); // past the end of a shorter target: treat as zeros
      return;
    }
    done += bytesRead;
  }
}

const TEMP_MARK = '.convoy-restore-';

/** `.<target>.convoy-restore-<pid>-<random>`, beside the target: the pid tells whether its writer still runs. */
export function tempFileName(target: string, pid: number): string {
  return path.join(path.dirname(target), `.${path.basename(target)}${TEMP_MARK}${pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Removes the temporary files that restores of `target` left when they were killed: those named
 * for a pid that is no process here any more. Files of live processes (a restore still running)
 * are kept, as are names without a pid (written by older versions: their writer is unknown).
 * Housekeeping only: a file that cannot be removed stays, and the restore goes on.
 */
async function removeStaleTempFiles(target: string): Promise<void> {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}${TEMP_MARK}`;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return; // opening the temporary file next reports a missing or unreadable directory
  }
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length)) : null;
    if (m === null || processExists(Number(m[1]))) continue;
    await fs.rm(path.join(dir, name), { force: true }).catch(() => undefined);
  }
}

/** Whether `pid` names a process on this host (signal 0: ESRCH means none; EPERM means another user's). */
function processExists(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return true; // not a pid we can judge: keep its file
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
