// The target of a block-image restore: a file (written to a temporary file beside it, renamed
// into place when complete) or a block device (written in place); full writes and reads; the
// temporary files killed restores left.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BlockstoreError } from './errors.js';
import type { RestoreOptions } from './restore.js';
import { openFileSize } from './source.js';

export interface OpenTarget {
  fh: fs.FileHandle;
  /** The file written: the target itself (in place) or a temporary file beside it. */
  out: string;
  inPlace: boolean;
  device: boolean;
}

/** Checks the target and opens what the restore writes; touches no store. */
export async function openTarget(options: Pick<RestoreOptions, 'target' | 'incremental' | 'targetIsZeroed'>): Promise<OpenTarget> {
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

/**
 * Closes the target. A temporary file is renamed over the target when the restore succeeded (the
 * directory then synced), removed when it did not; a target written in place stays as it is.
 */
export async function finishTarget(t: OpenTarget, target: string, ok: boolean): Promise<void> {
  await t.fh.close();
  if (t.inPlace) return;
  if (!ok) {
    await fs.rm(t.out, { force: true });
    return;
  }
  await fs.rename(t.out, target);
  const dh = await fs.open(path.dirname(target), constants.O_RDONLY);
  await dh.sync().catch(() => undefined);
  await dh.close();
}

/** Refuses a device smaller than the backup, before anything is written to it. */
export async function checkDeviceSize(fh: fs.FileHandle, target: string, backupSize: number): Promise<void> {
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

export async function readFully(fh: fs.FileHandle, buf: Buffer, offset: number): Promise<void> {
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
 * Removes the temporary files (or directories: a directory restore's tree) that restores of
 * `target` left when they were killed: those named for a pid that is no process here any more.
 * Those of live processes (a restore still running) are kept, as are names without a pid (written
 * by older versions: their writer is unknown). Housekeeping only: what cannot be removed stays,
 * and the restore goes on.
 */
export async function removeStaleTempFiles(target: string): Promise<void> {
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
    await fs.rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
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
