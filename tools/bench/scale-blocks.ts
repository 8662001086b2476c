// The block objects of tools/bench/scale.ts: ids only, no data. Tens of millions of blocks cost
// ~9 bytes each here (a presence byte and a lastModified number), never a Map entry or a string.
//
// Pool id n (0 ≤ n < capacity) has a 32-byte block id whose first 4 bytes are `headOf(n)`, a
// bijective mix of n (murmur3's finaliser, invertible), and whose other 28 bytes are a mix of the
// head: ids look random (uniform over the reference-index shards) and do not compress, a key maps
// back to n in O(1) (`indexOfKey`), and the key order of all ids is the numeric order of the heads.
import { blockKey } from '@convoy/blockstore';

const SALT = 0x2545f491;
const M1 = 0x85ebca6b;
const M2 = 0xc2b2ae35;
const GOLDEN = 0x9e3779b9;

/** Inverse of an odd number modulo 2^32 (Newton: each step doubles the correct bits). */
function inverse32(c: number): number {
  let x = c;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(c, x));
  return x >>> 0;
}
const M1_INV = inverse32(M1);
const M2_INV = inverse32(M2);

function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, M1);
  h ^= h >>> 13;
  h = Math.imul(h, M2);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The first 4 bytes (big-endian) of pool id n. */
export function headOf(n: number): number {
  return fmix32(n + SALT);
}

/** The pool index whose id starts with these 4 bytes (the inverse of headOf). */
export function indexOfHead(head: number): number {
  let h = head >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, M2_INV);
  h ^= (h >>> 13) ^ (h >>> 26);
  h = Math.imul(h, M1_INV);
  h ^= h >>> 16;
  return (h - SALT) >>> 0;
}

/** Writes the 32-byte id whose first 4 bytes are `head` at `out[offset]`. */
export function writeId(head: number, out: Buffer, offset = 0): void {
  out.writeUInt32BE(head >>> 0, offset);
  for (let k = 1; k < 8; k++) out.writeUInt32BE(fmix32(head ^ Math.imul(k, GOLDEN)), offset + 4 * k);
}

const scratch = Buffer.alloc(32);

export function hexOfHead(head: number): string {
  writeId(head, scratch);
  return scratch.toString('hex');
}

const BLOCK_KEY = /^blocks\/[0-9a-f]{2}\/[0-9a-f]{2}\/([0-9a-f]{64})\.blk$/;

/**
 * A fixed-capacity set of pool ids standing for block objects: which exist, and when each was
 * last written. Bodies are empty (size 0): the simulation counts requests, not bytes of blocks.
 */
export class BlockPool {
  readonly capacity: number;
  readonly #present: Uint8Array;
  readonly #modified: Float64Array;
  /** Heads of every pool id, ascending: the key order of the block objects. */
  readonly #sorted: Uint32Array;
  #count = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0 || capacity > 2 ** 32) throw new RangeError(`pool capacity ${capacity}`);
    this.capacity = capacity;
    this.#present = new Uint8Array(capacity);
    this.#modified = new Float64Array(capacity);
    this.#sorted = new Uint32Array(capacity);
    for (let n = 0; n < capacity; n++) this.#sorted[n] = headOf(n);
    this.#sorted.sort();
  }

  get count(): number {
    return this.#count;
  }

  /** The heads of every pool id (stored or not) in ascending order, i.e. in key order. Do not modify. */
  get sortedHeads(): Uint32Array {
    return this.#sorted;
  }

  has(n: number): boolean {
    return this.#present[n] === 1;
  }

  /** Marks pool id n as stored, written at `modifiedMs`. */
  add(n: number, modifiedMs: number): void {
    if (this.#present[n] !== 1) this.#count++;
    this.#present[n] = 1;
    this.#modified[n] = modifiedMs;
  }

  remove(n: number): void {
    if (this.#present[n] === 1) this.#count--;
    this.#present[n] = 0;
  }

  lastModified(n: number): number {
    return this.#modified[n] as number;
  }

  /** Pool index of a block key, or -1 if the key is not a pool id's block key. */
  indexOfKey(key: string): number {
    const m = BLOCK_KEY.exec(key);
    if (m === null) return -1;
    const hex = m[1] as string;
    const n = indexOfHead(Number.parseInt(hex.slice(0, 8), 16));
    if (n >= this.capacity || hexOfHead(headOf(n)) !== hex || blockKey(hex) !== key) return -1;
    return n;
  }

  /** Keys and pool indices of the stored ids whose key starts with `prefix`, in key order. */
  *list(prefix: string): Generator<{ key: string; n: number }> {
    if (!prefix.startsWith('blocks/')) {
      if (!'blocks/'.startsWith(prefix)) return;
      prefix = 'blocks/';
    }
    // The hex digits of the head that every matching key has: blocks/<0-1>/<2-3>/<0-7…>.blk
    const rest = prefix.slice('blocks/'.length);
    const at = [0, 1, 3, 4, 10, 11, 12, 13];
    let digits = '';
    for (const i of at) {
      const c = rest[i];
      if (c === undefined || !/[0-9a-f]/.test(c) || (i >= 3 && rest[2] !== '/') || (i >= 10 && rest[5] !== '/')) break;
      digits += c;
    }
    const lo = digits === '' ? 0 : Number.parseInt(digits.padEnd(8, '0'), 16);
    const hi = digits === '' ? 2 ** 32 : Number.parseInt(digits.padEnd(8, 'f'), 16) + 1;
    for (let i = lowerBound(this.#sorted, lo); i < this.capacity; i++) {
      const head = this.#sorted[i] as number;
      if (head >= hi) break;
      const n = indexOfHead(head);
      if (this.#present[n] !== 1) continue;
      const key = blockKey(hexOfHead(head));
      if (key.startsWith(prefix)) yield { key, n };
    }
  }
}

function lowerBound(a: Uint32Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
