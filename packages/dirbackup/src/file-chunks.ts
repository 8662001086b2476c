// One file's content as chunks: cut by the store's chunker, hashed, uploaded when new.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { chunkStream, type ChunkerParams } from '@convoy/chunker';
import { ConvoyError, errorCode } from '@convoy/errors';
import type { ChunkRef } from '@convoy/fileindex';
import type { OpenedStore } from '@convoy/blockstore';
import type { Uploader } from './uploader.js';

/** Reads, cuts and uploads a file; answers its chunk list (their sizes add up to what was read). */
export async function chunkFile(
  absPath: string,
  c: { opened: OpenedStore; params: ChunkerParams; uploader: Uploader; signal: AbortSignal | undefined; onBytes: (n: number) => void },
): Promise<ChunkRef[]> {
  const chunks: ChunkRef[] = [];
  // O_NOFOLLOW: the walk saw a regular file here; if it was swapped for a symlink since, refuse.
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(absPath, constants.O_RDONLY | constants.O_NOFOLLOW);
    const stream = fh.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false, ...(c.signal === undefined ? {} : { signal: c.signal }) });
    for await (const { offset, data } of chunkStream(stream, { params: c.params, ...(c.signal === undefined ? {} : { signal: c.signal }) })) {
      const hex = c.opened.ids.digest(data).toString('hex');
      await c.uploader.putChunk(hex, data, { file: absPath, offset });
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
  return chunks;
}
