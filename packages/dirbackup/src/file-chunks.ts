// One file's content as chunks: cut by the store's chunker, hashed, uploaded when new.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { chunkStream, type ChunkerParams } from '@convoy/chunker';
import { ConvoyError, errorCode } from '@convoy/errors';
import type { ChunkRef } from '@convoy/fileindex';
import { encodeBlock, type Compression, type OpenedStore } from '@convoy/blockstore';
import type { Uploader } from './uploader.js';

/** A chunk small enough for a pack: packed later, in walk order, so packs do not depend on timing. */
export interface SmallChunk {
  hex: string;
  data: Buffer;
  offset: number;
  /** Its block object, encoded here (in parallel with other files' reads), for the pack. */
  obj: Buffer;
}

/**
 * Reads, cuts and hashes a file, uploading its large chunks; answers its chunk list (their sizes
 * add up to what was read) and its small chunks, which the caller packs in walk order.
 */
export async function chunkFile(
  absPath: string,
  size: number,
  c: {
    opened: OpenedStore;
    params: ChunkerParams;
    compression: Compression;
    uploader: Uploader;
    signal: AbortSignal | undefined;
    onBytes: (n: number) => void;
  },
): Promise<{ chunks: ChunkRef[]; small: SmallChunk[] }> {
  const chunks: ChunkRef[] = [];
  const small: SmallChunk[] = [];
  // O_NOFOLLOW: the walk saw a regular file here; if it was swapped for a symlink since, refuse.
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(absPath, constants.O_RDONLY | constants.O_NOFOLLOW);
    // A file below the chunker's minimum is one chunk: read it whole into a buffer of its size (a
    // stream would allocate a 1 MiB buffer per file, and tens of thousands of them cost more in GC
    // than the reads). One more byte is asked for, so a file that grew is streamed after all.
    const pieces = size < c.params.minSize ? await readSmall(fh, size) : undefined;
    const source =
      pieces ??
      chunkStream(fh.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false, signal: c.signal }), {
        params: c.params,
        signal: c.signal,
      });
    for await (const { offset, data } of source) {
      const hex = c.opened.ids.digest(data).toString('hex');
      if (data.length < c.uploader.packBelow) {
        const kept = pieces === undefined ? Buffer.from(data) : data;
        small.push({ hex, data: kept, offset, obj: await encodeBlock(c.compression, kept) });
      } else await c.uploader.putChunk(hex, data, { file: absPath, offset });
      chunks.push({ id: hex, size: data.length });
      c.onBytes(data.length);
    }
  } catch (err) {
    if (err instanceof ConvoyError || (err as Error).name === 'AbortError') throw err;
    throw new ConvoyError('CONVOY_SOURCE_UNREADABLE', `cannot read ${absPath}: ${errorCode(err) ?? String(err)}`, {
      hint: "the backup needs to read every file of the tree: check permissions (run as root for other users' files)",
      cause: err,
    });
  } finally {
    await fh?.close();
  }
  return { chunks, small };
}

/** The whole file as one chunk when it holds fewer than `size + 1` bytes; undefined when it grew. */
async function readSmall(fh: Awaited<ReturnType<typeof open>>, size: number): Promise<{ offset: number; data: Buffer }[] | undefined> {
  const buf = Buffer.allocUnsafe(size + 1);
  let got = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
    if (got === buf.length) return undefined;
  }
  return got === 0 ? [] : [{ offset: 0, data: buf.subarray(0, got) }];
}
