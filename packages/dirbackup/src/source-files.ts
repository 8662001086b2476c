// What backupDirectory reads besides the walk: the source directory's check, byte ranges of
// source files (a chunk read again), the files cache of a parent backup, and digests.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Manifest } from '@convoy/blockstore';
import { ConvoyError } from '@convoy/errors';
import { FilesCache, type FileIndexReader } from '@convoy/fileindex';
import type { DirectoryBackupOptions } from './backup.js';

/** The files cache from a parent's index: its entries, compared by size and mtime (and ctime, inode as asked). */
export function filesCacheFor(reader: FileIndexReader, m: Manifest, o: DirectoryBackupOptions['filesCache']): FilesCache {
  const started = Date.parse((m.files as { started?: string } | undefined)?.started ?? m.created);
  return new FilesCache(reader.entries(), {
    ctime: o?.ctime ?? true,
    inode: o?.inode ?? true,
    parentStartedNs: BigInt(started) * 1_000_000n,
  });
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** CONVOY_SOURCE_UNREADABLE unless `dir` is a directory this process can open. */
export async function assertDirectory(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY).catch((err: unknown) => {
    throw new ConvoyError('CONVOY_SOURCE_UNREADABLE', `${dir} is not a readable directory`, {
      hint: 'name a directory to back up',
      cause: err,
    });
  });
  await fh.close();
}

/** `length` bytes of `file` at `offset` (fewer at its end); undefined when it cannot be read (gone, replaced by a link). */
export async function readRange(file: string, offset: number, length: number): Promise<Buffer | undefined> {
  try {
    const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}
