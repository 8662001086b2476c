import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '@convoy/objectstore';
import { isZero } from './backup.js';
import { fetchBlock } from './block-reader.js';
import { BlockstoreError } from './errors.js';
import { readHeader } from './format/header.js';
import { readBlockMap, readManifest, type Manifest } from './format/manifest.js';
import { acquireLock } from './lock.js';
import { forEachIndex } from './pool.js';
import type { ProgressCallback } from './progress.js';

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
 * old target (or none), never a silently wrong one. Block devices are written in place; a failure
 * there says so.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const { store, signal } = options;
  const opened = await readHeader(store, signal);
  const manifest = await readManifest(store, options.volume, options.id, signal);
  const map = await readBlockMap(store, manifest, signal);
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
  const inPlace = device || options.incremental === true || (options.targetIsZeroed === true && st !== undefined);
  const out = inPlace ? options.target : path.join(path.dirname(options.target), `.${path.basename(options.target)}.convoy-restore-${randomBytes(4).toString('hex')}`);
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(out, inPlace ? constants.O_RDWR : constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    throw new BlockstoreError('CONVOY_TARGET_INVALID', `cannot open restore target ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: 'check that the target directory exists and is writable',
      cause: err,
    });
  }
  const lock = await acquireLock(store, { kind: 'restore', volume: options.volume, ...(signal === undefined ? {} : { signal }) }).catch(async (err: unknown) => {
    await fh.close();
    if (!inPlace) await fs.rm(out, { force: true });
    throw err;
  });
  const bs = manifest.blockSize;
  const blocks = Math.ceil(manifest.size / bs);
  const zero = Buffer.alloc(bs);
  let blocksWritten = 0;
  let bytesFetched = 0;
  let blocksDone = 0;
  let bytesDone = 0;
  let ok = false;
  try {
    if (device) {
      const devSize = (await fh.stat()).size;
      if (devSize !== 0 && devSize < manifest.size) {
        throw new BlockstoreError('CONVOY_TARGET_INVALID', `device ${options.target} (${devSize} bytes) is smaller than the backup (${manifest.size} bytes)`);
      }
    } else {
      await fh.truncate(manifest.size); // new file: all holes; incremental: adjust the size
    }
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
          await fh.write(zero, 0, length, offset);
          blocksWritten++;
        }
        return;
      }
      const { data, stored } = await fetchBlock(opened, entry.id.toString('hex'), signal);
      bytesFetched += stored;
      if (data.length !== length) throw new BlockstoreError('CONVOY_BLOCK_CORRUPT', `block ${i} of backup ${manifest.id} has ${data.length} bytes, expected ${length}`);
      await fh.write(data, 0, length, offset);
      blocksWritten++;
    };
    await forEachIndex(
      blocks,
      options.concurrency ?? 6,
      async (i) => {
        await writeBlock(i);
        blocksDone++;
        bytesDone += Math.min(bs, manifest.size - i * bs);
        options.onProgress?.({ phase: 'restore', bytesDone, bytesTotal: manifest.size, blocksDone, blocksTotal: blocks, bytesTransferred: bytesFetched });
      },
      signal,
    );
    await fh.sync();
    ok = true;
  } catch (err) {
    if (inPlace && err instanceof Error && !(err instanceof BlockstoreError && err.code === 'CONVOY_TARGET_INVALID')) {
      throw new BlockstoreError('CONVOY_RESTORE_INCOMPLETE', `restore into ${options.target} failed part-way; the target is incomplete: ${err.message}`, {
        hint: 'fix the cause and run the restore again; do not use the target until it succeeds',
        cause: err,
      });
    }
    throw err;
  } finally {
    await fh.close();
    if (!inPlace) {
      if (ok) {
        await fs.rename(out, options.target);
        const dh = await fs.open(path.dirname(options.target), constants.O_RDONLY);
        await dh.sync().catch(() => undefined);
        await dh.close();
      } else {
        await fs.rm(out, { force: true });
      }
    }
    await lock.release();
  }
  return { manifest, blocksWritten, bytesFetched };
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
