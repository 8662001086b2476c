// The fs driver's temporary files: written and fsynced beside their target, then renamed or
// linked into place (fs-store.ts); the directory fsynced after; and the sweep of those a killed writer left.
import { randomBytes } from 'node:crypto';
import { constants, type Dir } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { errorCode } from '@convoy/errors';
import { throwIfAborted } from '../abort.js';
import type { CleanupStaleResult, PutBody } from '../types.js';

/**
 * The fs driver's temporary files: `.<name>~<12 hex digits>.tmp` beside the target file. No valid
 * key has this name (keys never contain `~`), so listing skips them and the sweep below can tell
 * them from objects by name alone.
 */
const TEMP_NAME = /^\.[A-Za-z0-9._!-]+~[0-9a-f]{12}\.tmp$/;

/** A fresh temporary path for writing `file`, in the same directory (so a rename is atomic). */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}~${randomBytes(6).toString('hex')}.tmp`);
}

export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/**
 * Removes the temporary files under `root` last modified before `olderThan`: what writers killed
 * between creating and renaming them left behind. Removes nothing else — only regular files with
 * the temp name, never objects, directories or whatever a symlink points to (symlinks are neither
 * followed nor removed). A directory or file that vanishes meanwhile is skipped; a vanished root
 * and every other failure throw the underlying error (the caller names the store).
 */
export async function sweepStaleTempFiles(root: string, olderThan: Date, signal: AbortSignal | undefined): Promise<CleanupStaleResult> {
  const result: CleanupStaleResult = { removed: 0, bytes: 0 };
  await sweepDir(root, true, olderThan.getTime(), signal, result);
  return result;
}

async function sweepDir(
  dir: string,
  isRoot: boolean,
  olderThanMs: number,
  signal: AbortSignal | undefined,
  result: CleanupStaleResult,
): Promise<void> {
  let entries: Dir;
  try {
    entries = await fs.opendir(dir, { bufferSize: 256 });
  } catch (err) {
    if (!isRoot && (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR')) return; // pruned meanwhile
    throw err;
  }
  for await (const entry of entries) {
    throwIfAborted(signal, 'cleanup of stale temporary files');
    const p = path.join(dir, entry.name);
    // Dirent types come from lstat semantics: a symlink is neither a directory nor a file here.
    if (entry.isDirectory()) await sweepDir(p, false, olderThanMs, signal, result);
    else if (entry.isFile() && isTempName(entry.name)) await removeIfStale(p, olderThanMs, result);
  }
}

async function removeIfStale(file: string, olderThanMs: number, result: CleanupStaleResult): Promise<void> {
  try {
    const st = await fs.lstat(file);
    if (!st.isFile() || st.mtimeMs >= olderThanMs) return;
    await fs.unlink(file);
    result.removed++;
    result.bytes += st.size;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return; // renamed into place or removed meanwhile
    throw err;
  }
}

/**
 * Writes `body` to the new file `tmp` in `dir` (made if missing; never an existing file) and fsyncs
 * it (unless `sync` is false: a deferred put, fsynced by the flush); the caller renames or links it
 * into place and fsyncs the directory (fsyncDir).
 */
export async function writeTempFile(dir: string, tmp: string, body: PutBody, signal: AbortSignal | undefined, sync = true): Promise<void> {
  // A concurrent delete may prune the (empty) directory between mkdir and open: retry.
  for (let attempt = 0; ; attempt++) {
    let fh: fs.FileHandle;
    try {
      // Always made (not remembered): a daemon's steps stay the same from one run to the next, which
      // its kill-at-every-step tests rely on, and a directory pruned by another host is made again.
      await fs.mkdir(dir, { recursive: true });
      fh = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o640);
    } catch (err) {
      if (errorCode(err) === 'ENOENT' && attempt < 5) continue;
      throw err;
    }
    try {
      if (body instanceof Uint8Array) {
        // one write(2) for a whole block, not FileHandle.writeFile's 512 KiB pieces (a trip to libuv's pool each)
        for (let at = 0; at < body.length;) at += (await fh.write(body, at, body.length - at)).bytesWritten;
      } else {
        for await (const chunk of body) {
          throwIfAborted(signal, 'put');
          await fh.write(chunk);
        }
      }
      if (sync) await fh.sync();
    } finally {
      await fh.close();
    }
    return;
  }
}

/** fsync of a directory (after a rename or link in it); a filesystem that refuses it (NFS) leaves the rename as all we can do. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } catch (err) {
    // Some filesystems (and NFS) refuse fsync on a directory; the rename itself is then all we can do.
    if (errorCode(err) !== 'EINVAL' && errorCode(err) !== 'EBADF') throw err;
  } finally {
    await fh.close();
  }
}

/** fsync of a file by path (a deferred put's temporary file, at the flush). */
export async function fsyncFile(file: string): Promise<void> {
  const fh = await fs.open(file, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
