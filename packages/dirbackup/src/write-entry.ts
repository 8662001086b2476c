// Creates one restored entry inside the target. Every path handed in was checked by the file
// index reader (relative, no `..`, its parent a directory entry restored before it), and every
// creation refuses to find something there already (O_EXCL, mkdir, symlink, link): nothing is
// ever written through a symlink, even one planted in the target meanwhile.
import { constants } from 'node:fs';
import { chmod, lchown, link, mkdir, open, symlink } from 'node:fs/promises';
import { ConvoyError, errorCode } from '@convoy/errors';
import { writeXattr, type ChunkRef, type FileEntry, type RootMeta } from '@convoy/fileindex';
import { makeNode, setMtimeNs } from './native.js';

export function writeFailed(path: string, err: unknown): ConvoyError {
  if (err instanceof ConvoyError) return err;
  return new ConvoyError('CONVOY_TARGET_WRITE_FAILED', `cannot restore ${path}: ${errorCode(err) ?? String(err)}`, {
    hint: 'restore into an empty directory on a filesystem with room for the backup',
    cause: err,
  });
}

async function guarded<T>(path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw writeFailed(path, err);
  }
}

/** Fetches a chunk's verified bytes, or undefined for an all-zero chunk (left as a hole). */
export type ChunkSource = (c: ChunkRef) => Promise<Buffer | undefined>;

/** Writes a regular file's content, ownership and mode (mtime and xattrs come with finishEntry). */
export async function writeFile(
  abs: string,
  e: FileEntry,
  chunks: readonly ChunkRef[],
  fetch: ChunkSource,
  owners: boolean,
): Promise<number> {
  return guarded(abs, async () => {
    const fh = await open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    let written = 0;
    try {
      let offset = 0;
      // Up to three chunks fetched ahead of the one being written (a large file on S3 is not one
      // round trip per chunk in turn).
      const ahead: Promise<Buffer | undefined>[] = [];
      let next = 0;
      for (const c of chunks) {
        while (ahead.length < 3 && next < chunks.length) {
          const p = fetch(chunks[next++]!);
          p.catch(() => undefined); // awaited below in order
          ahead.push(p);
        }
        const data = await ahead.shift()!;
        if (data !== undefined) {
          for (let at = 0; at < data.length;) at += (await fh.write(data, at, data.length - at, offset + at)).bytesWritten;
          written += data.length;
        }
        offset += c.size;
      }
      await fh.truncate(offset); // trailing holes
      if (owners) await fh.chown(e.uid, e.gid);
      await fh.chmod(e.mode); // after chown, which clears setuid/setgid
    } finally {
      await fh.close();
    }
    return written;
  });
}

export async function makeDirectory(abs: string): Promise<void> {
  await guarded(abs, () => mkdir(abs, { mode: 0o700 }));
}

export async function makeSymlink(abs: string, e: FileEntry, owners: boolean): Promise<void> {
  await guarded(abs, async () => {
    await symlink(e.target!, abs);
    if (owners) await lchown(abs, e.uid, e.gid);
  });
}

export async function makeHardLink(existing: string, abs: string): Promise<void> {
  await guarded(abs, () => link(existing, abs));
}

/** A fifo or a device node (devices only as root); false when it was skipped (sockets, devices as non-root). */
export async function makeOther(abs: string, e: FileEntry, owners: boolean): Promise<boolean> {
  const type =
    e.kind === 'fifo' ? constants.S_IFIFO : e.kind === 'char' ? constants.S_IFCHR : e.kind === 'block' ? constants.S_IFBLK : undefined;
  if (type === undefined || (type !== constants.S_IFIFO && !owners)) return false;
  await guarded(abs, async () => {
    makeNode(abs, type, 0o600, e.rdev ?? 0);
    if (owners) await lchown(abs, e.uid, e.gid);
    await chmod(abs, e.mode);
  });
  return true;
}

/** Ownership and mode of a directory (at the end: a read-only directory must get its children first). */
export async function finishDirectory(abs: string, e: Pick<FileEntry, 'uid' | 'gid' | 'mode'>, owners: boolean): Promise<void> {
  await guarded(abs, async () => {
    if (owners) await lchown(abs, e.uid, e.gid);
    await chmod(abs, e.mode);
  });
}

/**
 * Extended attributes and the mtime of any entry, last (writing either changes the ctime; the
 * content changes the mtime). Attributes the target refuses (trusted.* as non-root, a filesystem
 * without xattrs) are counted, not fatal.
 */
export function finishEntry(abs: string, e: Pick<FileEntry, 'mtimeNs' | 'xattrs'> | RootMeta, skippedXattrs: { n: number }): void {
  for (const [name, value] of Object.entries(e.xattrs ?? {})) {
    try {
      writeXattr(abs, name, value);
    } catch {
      skippedXattrs.n++;
    }
  }
  try {
    setMtimeNs(abs, e.mtimeNs);
  } catch (err) {
    throw writeFailed(abs, err);
  }
}
