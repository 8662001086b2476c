// The target directory of a restore: checked empty (or absent), written in place or beside it in a
// temporary directory renamed over it at the end.
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { removeStaleTempFiles, tempFileName } from '@convoy/blockstore';
import { ConvoyError, errorCode } from '@convoy/errors';
import { writeFailed } from './write-entry.js';

/** Whether `target` is a mount point (an empty, freshly mounted filesystem cannot be renamed over). */
async function isMountPoint(target: string): Promise<boolean> {
  const [t, p] = await Promise.all([lstat(target).catch(() => undefined), lstat(dirname(target)).catch(() => undefined)]);
  return t !== undefined && p !== undefined && t.isDirectory() && t.dev !== p.dev;
}

/**
 * The target must be an empty directory (not a symlink to one), or not exist. In place it is
 * created, and it stays 0700 while the restore runs, so nobody else can plant anything in it (the
 * temporary directory of the default is 0700 likewise). Answers the mode a subtree restore gives
 * the target at the end.
 */
async function prepareTarget(target: string, inPlace: boolean): Promise<number> {
  const st = await lstat(target).catch((err: unknown) => {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw writeFailed(target, err);
  });
  if (st === undefined) {
    if (inPlace) await mkdir(target, { mode: 0o700 }).catch((err: unknown) => Promise.reject(writeFailed(target, err)));
    return 0o755;
  }
  if (!st.isDirectory())
    throw new ConvoyError('CONVOY_TARGET_INVALID', `cannot restore a directory backup into ${target}: it is not a directory`, {
      hint: 'name an empty directory, or a path that does not exist yet',
    });
  if ((await readdir(target)).length > 0) {
    throw new ConvoyError('CONVOY_TARGET_INVALID', `cannot restore into ${target}: the directory is not empty`, {
      hint: 'restore into an empty directory, or a path that does not exist yet',
    });
  }
  if (inPlace) await chmod(target, 0o700).catch((err: unknown) => Promise.reject(writeFailed(target, err)));
  return st.mode & 0o7777;
}

/** Renames the restored tree over the target (absent, or an empty directory rename(2) replaces), then syncs the parent. */
async function commitTarget(work: string, target: string): Promise<void> {
  try {
    await rename(work, target);
    const dh = await open(dirname(target), constants.O_RDONLY | constants.O_DIRECTORY);
    await dh.sync().catch(() => undefined);
    await dh.close();
  } catch (err) {
    throw writeFailed(target, err);
  }
}

/** Where a restore writes: the target itself (in place) or a 0700 directory beside it. */
export interface RestoreWork {
  /** The directory the restore writes into. */
  dir: string;
  /** The mode a subtree restore gives the target at the end (prepareTarget). */
  targetMode: number;
  /** Puts the restored tree in place (a rename over the target, unless written in place). */
  commit(): Promise<void>;
  /** After a failure: removes the temporary directory (nothing, in place). */
  abandon(): Promise<void>;
}

/**
 * Checks the target (prepareTarget) and opens where the restore writes. A target that is a mount
 * point (an empty, freshly mounted filesystem) cannot be renamed over: it is written in place.
 * Otherwise the tree is built beside it in a directory named for this process, and what killed
 * restores of the same target left there is removed first.
 */
export async function openRestoreWork(target: string, inPlace: boolean): Promise<RestoreWork> {
  const here = inPlace || (await isMountPoint(target));
  const targetMode = await prepareTarget(target, here);
  if (here) return { dir: target, targetMode, commit: async () => undefined, abandon: async () => undefined };
  await removeStaleTempFiles(target);
  const dir = tempFileName(target, process.pid);
  await mkdir(dir, { mode: 0o700 }).catch((err: unknown) => Promise.reject(writeFailed(dir, err)));
  return {
    dir,
    targetMode,
    commit: () => commitTarget(dir, target),
    abandon: () =>
      rm(dir, { recursive: true, force: true }).then(
        () => undefined,
        () => undefined,
      ),
  };
}
