import { promisify } from 'node:util';
import zlib from 'node:zlib';
import * as lz4 from 'lz4-napi';
import { invalidInput } from '../errors.js';

/** Codec ids as stored in block objects and block maps (docs/format.md). */
export const CODECS = { none: 0, gzip: 1, zstd: 2, lz4: 3 } as const;
export type Compression = keyof typeof CODECS;
export const COMPRESSIONS = Object.keys(CODECS) as Compression[];

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

export function parseCompression(name: string): Compression {
  if ((COMPRESSIONS as string[]).includes(name)) return name as Compression;
  throw invalidInput(`unknown compression "${name}"`, `use one of: ${COMPRESSIONS.join(', ')}`);
}

export function codecName(id: number): Compression | undefined {
  return COMPRESSIONS.find((c) => CODECS[c] === id);
}

const zstdCompress = promisify(zlib.zstdCompress);
/**
 * zstd level 1: on the bench's text it compresses ~25 % faster than level 3 (zstd's default) and
 * stores no more (tools/bench/README.md); still well ahead of lz4's ratio (borg's default).
 */
export const ZSTD_LEVEL = 1;
/** Output chunk of a zstd encode: compressed text of a 2 MiB block fits in a few; never a whole block's worth up front. */
export const ZSTD_CHUNK = 128 * 1024;

/**
 * The incompressible-data probe (block-object.ts, and the block threads: the same decision on both):
 * `samples` pieces of `bytes` spread over a block of at least `min` bytes, compressed together;
 * output of at least `ratio` of their length means the block is stored as is without a full pass.
 */
export const PROBE = { probeSamples: 8, probeBytes: 4096, probeMin: 8 * 4096 * 4, probeRatio: 0.98 } as const;

/**
 * Compresses off the main thread (zstd, lz4 and zlib all run in libuv's pool). zstd answers `data`
 * itself when its output would not be smaller (the caller then stores the data as is).
 */
export async function compress(codec: Compression, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case 'none':
      return data;
    case 'zstd':
      return zstdEncode(data);
    case 'lz4':
      return lz4.compress(data);
    case 'gzip':
      return gzip(data, { level: 1 });
  }
}

/**
 * node:zlib's zstd (not @mongodb-js/zstd's, which took 1.5–5× its CPU here for the same bytes):
 * no output larger than the input (the data is then stored as is). The pledged size goes into the
 * frame. Block maps use this; block objects are encoded on the block threads (block-thread.ts),
 * whose one-call encoder cuts frames differently from this streaming one (same content, other bytes).
 */
async function zstdEncode(data: Buffer): Promise<Buffer> {
  if (data.length === 0) return zstdCompress(data);
  try {
    return await zstdCompress(data, {
      chunkSize: ZSTD_CHUNK,
      maxOutputLength: data.length,
      pledgedSrcSize: data.length,
      params: { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL },
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return data; // would grow
    throw err;
  }
}

const zstdDecompress = promisify(zlib.zstdDecompress);
/** The largest output chunk allocated up front (a block is 2 MiB; a header may lie). */
const MAX_CHUNK = 8 * 1024 * 1024;

/**
 * `expected`: the decoded length the object's header promises; zstd output beyond it is refused
 * (a corrupt or hostile object cannot make it allocate more).
 */
export async function decompress(codec: Compression, data: Buffer, expected: number): Promise<Buffer> {
  switch (codec) {
    case 'none':
      return data;
    case 'zstd':
      // node:zlib's zstd, not @mongodb-js/zstd's: twice as fast to decode here, and its output is an
      // ordinary Buffer that can be transferred to a hashing thread (block-scan.ts); one chunk of the
      // expected length, so a whole block lands in one buffer of its own.
      return zstdDecompress(data, { chunkSize: Math.min(Math.max(1024, expected), MAX_CHUNK), maxOutputLength: Math.max(1, expected) });
    case 'lz4':
      return lz4.uncompress(data);
    case 'gzip':
      return gunzip(data);
  }
}
