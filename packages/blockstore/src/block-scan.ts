// A block's zero check and id, computed on a hashing thread (hash-workers.ts) from the memory it was
// read into, which travels there and back without a copy.
import { isZero } from './block-bits.js';
import { threadSpec, type BlockIdFunction } from './format/block-id.js';
import { hashWorkers } from './hash-workers.js';

/** Memory smaller than this is hashed where it is: a thread's round trip costs more than hashing it. */
const MIN_TRANSFER = 64 * 1024;

export interface ScannedBlock {
  /** The same bytes as the view given, as a new view when its memory went to a thread and back. */
  data: Buffer;
  /** Every byte is zero (only when asked: `zeroCheck`); then there is no id. */
  zero: boolean;
  id: Buffer | undefined;
}

export interface ScanOptions {
  /** Check for zeros first (a zero block is not hashed). */
  zeroCheck: boolean;
  /**
   * The caller owns all of `data.buffer` (not only the view): it may go to a thread, and neither
   * `data` nor any other view of that memory may be used until this settles; afterwards use the
   * answer's `data`. Memory that cannot travel (Node's small-Buffer pool, a native library's
   * external buffer) is hashed on the calling thread instead.
   */
  transfer: boolean;
}

/** Checks `data` for zeros (if asked) and, unless zero, computes its id under `ids`. */
export async function scanBlock(ids: BlockIdFunction, data: Buffer, options: ScanOptions): Promise<ScannedBlock> {
  const spec = threadSpec(ids);
  const ab = data.buffer;
  if (spec !== undefined && options.transfer && ab instanceof ArrayBuffer && ab.byteLength >= MIN_TRANSFER) {
    const { byteOffset, length } = data;
    try {
      const r = await hashWorkers().scan({ frame: ab, offset: byteOffset, length, key: spec.key, zeroCheck: options.zeroCheck });
      return { data: Buffer.from(r.frame, byteOffset, length), zero: r.zero, id: r.id };
    } catch (err) {
      if ((err as Error).name !== 'DataCloneError' || ab.byteLength === 0) throw err; // untransferable: still here, done below
    }
  }
  const zero = options.zeroCheck && isZero(data);
  return { data, zero, id: zero ? undefined : ids.digest(data) };
}
