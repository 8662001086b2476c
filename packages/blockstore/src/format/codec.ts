import { promisify } from 'node:util';
import zlib from 'node:zlib';
import * as zstd from '@mongodb-js/zstd';
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

/** Compresses off the main thread (zstd, lz4 and zlib all run in libuv's pool). */
export async function compress(codec: Compression, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case 'none':
      return data;
    case 'zstd':
      return zstd.compress(data); // @mongodb-js/zstd 1.2.2 always uses zstd's default level (3)
    case 'lz4':
      return lz4.compress(data);
    case 'gzip':
      return gzip(data, { level: 1 });
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
