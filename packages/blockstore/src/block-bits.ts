// Which blocks a block-image backup reads and stores: zero blocks are skipped, and an incremental
// with a changed-extent list reads only the blocks those extents touch.
import type { Extent } from './source.js';

const ZERO = Buffer.alloc(2 * 1024 * 1024);

/** Whether every byte of `buf` is zero (a zero block is not stored: the block map leaves it out). */
export function isZero(buf: Buffer): boolean {
  for (let o = 0; o < buf.length; o += ZERO.length) {
    const n = Math.min(ZERO.length, buf.length - o);
    if (!buf.subarray(o, o + n).equals(ZERO.subarray(0, n))) return false;
  }
  return true;
}

/**
 * 1 for every block to read: blocks touched by a changed extent, and, when the size changed,
 * every block from the first one the old and new sizes do not both hold whole (the old last
 * block, the new last block and everything past the smaller size), so an entry never runs past
 * the volume's end.
 */
export function changedBitmap(changed: readonly Extent[], blocks: number, bs: number, size: number, parentSize: number): Uint8Array {
  const bits = new Uint8Array(blocks);
  for (const e of changed) {
    if (e.length === 0) continue;
    if (e.offset >= size) continue;
    const first = Math.floor(e.offset / bs);
    const last = Math.min(blocks - 1, Math.floor((Math.min(size, e.offset + e.length) - 1) / bs));
    bits.fill(1, first, last + 1);
  }
  if (size !== parentSize) bits.fill(1, Math.min(blocks, Math.floor(Math.min(size, parentSize) / bs)));
  return bits;
}

/**
 * Frees a buffer's memory now rather than at a garbage collection, which for external memory comes
 * only after 64 MiB more of it (V8): its ArrayBuffer is transferred to nothing, and every view of
 * it is detached. Only for memory the caller alone owns; memory that cannot be detached (Node's
 * small-Buffer pool) is left to the collector.
 */
export function releaseMemory(buf: Buffer): void {
  const ab = buf.buffer;
  if (!(ab instanceof ArrayBuffer)) return;
  try {
    ab.transfer(0);
  } catch {
    // not detachable: the garbage collector frees it
  }
}
