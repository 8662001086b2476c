// Holes of a sparse file, through lseek(SEEK_DATA) via koffi (Node has no lseek): a backup skips
// the blocks that lie wholly in a hole without reading them. A 64 GiB sparse volume with 1 GiB of
// data is then read as 1 GiB, not 64. One system call of a few microseconds per block.
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';

const SEEK_DATA = 3;
const ENXIO = 6;

type Lseek = (fd: number, offset: bigint, whence: number) => bigint;

let lseek: { call: Lseek; errno: () => number } | null | undefined;
/** Loaded on the first question, not at start-up: most commands never ask (koffi is a native module). */
function bind(): { call: Lseek; errno: () => number } | null {
  if (lseek === undefined) {
    try {
      const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
      const call = koffi.load('libc.so.6').func('int64_t lseek(int fd, int64_t offset, int whence)') as unknown as Lseek;
      lseek = { call, errno: () => koffi.errno() };
    } catch {
      lseek = null; // no glibc (or no koffi build for this platform): every block is read
    }
  }
  return lseek;
}

/**
 * The offset of the first data at or after `offset` in the open file `fd`: `Infinity` when only a
 * hole follows, `offset` itself when the file system cannot tell (no SEEK_DATA: everything is data).
 */
export function nextData(fd: number, offset: number): number {
  const f = bind();
  if (f === null) return offset;
  const r = f.call(fd, BigInt(offset), SEEK_DATA);
  if (r >= 0n) return Number(r);
  // ENXIO: no data at or after offset. Anything else (EINVAL: no SEEK_DATA here): read it.
  return f.errno() === ENXIO ? Infinity : offset;
}

/**
 * Answers "is [offset, offset + length) wholly a hole?" for one file read front to back, with one
 * lseek per data region rather than per block: a hole seen once answers every block inside it.
 */
export class HoleMap {
  readonly #fd: number;
  /** The last answer: no data in [#from, #dataAt). */
  #from = -1;
  #dataAt = -1;

  constructor(fd: number) {
    this.#fd = fd;
  }

  isHole(offset: number, length: number): boolean {
    if (!(offset >= this.#from && offset < this.#dataAt)) {
      this.#from = offset;
      this.#dataAt = nextData(this.#fd, offset);
    }
    return this.#dataAt >= offset + length;
  }
}
