import { compress, decompress } from './codec.js';
import { manifestInvalid } from '../errors.js';

/** One non-zero block of a backup: index × blockSize is its byte offset. */
export interface BlockEntry {
  index: number;
  length: number;
  /** 32 raw bytes. */
  id: Buffer;
}

const MAGIC = Buffer.from('CVBM');
const HEADER = 12;
const ENTRY = 40;

/**
 * A backup's block map in compact binary form (docs/format.md): entries sorted by index, 40 bytes
 * each before compression. Kept as one Buffer so a 1 TiB volume costs ~21 MB, not a JS object
 * per block.
 */
export class BlockMap {
  readonly count: number;
  readonly #table: Buffer;

  private constructor(table: Buffer) {
    this.#table = table;
    this.count = table.length / ENTRY;
  }

  /** @internal A sorted, validated table (BlockMapBuilder.build and decode are the ways in). */
  static fromTable(table: Buffer): BlockMap {
    return new BlockMap(table);
  }

  static builder(): BlockMapBuilder {
    return new BlockMapBuilder();
  }

  static async decode(key: string, bytes: Buffer): Promise<BlockMap> {
    if (bytes.length < HEADER || !bytes.subarray(0, 4).equals(MAGIC)) throw manifestInvalid(key, 'block map has a bad header');
    if (bytes[4] !== 1) throw manifestInvalid(key, `block map version ${bytes[4]} is not supported`);
    const n = bytes.readUInt32LE(8);
    let table: Buffer;
    if (bytes[5] === 0) table = bytes.subarray(HEADER);
    else if (bytes[5] === 2) {
      try {
        table = await decompress('zstd', bytes.subarray(HEADER), n * ENTRY);
      } catch {
        throw manifestInvalid(key, 'block map does not decompress');
      }
    } else throw manifestInvalid(key, `block map codec ${bytes[5]} is not supported`);
    if (table.length !== n * ENTRY) throw manifestInvalid(key, `block map holds ${table.length} bytes for ${n} entries`);
    const map = BlockMap.fromTable(table);
    let prev = -1;
    for (let i = 0; i < n; i++) {
      const idx = table.readUInt32LE(i * ENTRY);
      if (idx <= prev) throw manifestInvalid(key, 'block map indices are not increasing');
      prev = idx;
    }
    return map;
  }

  async encode(): Promise<Buffer> {
    const head = Buffer.alloc(HEADER);
    MAGIC.copy(head, 0);
    head[4] = 1;
    head.writeUInt32LE(this.count, 8);
    const body = await compress('zstd', this.#table);
    head[5] = body === this.#table ? 0 : 2; // stored as is when zstd would not shrink it
    return Buffer.concat([head, body]);
  }

  at(i: number): BlockEntry {
    const o = i * ENTRY;
    return { index: this.#table.readUInt32LE(o), length: this.#table.readUInt32LE(o + 4), id: this.#table.subarray(o + 8, o + ENTRY) };
  }

  *entries(): IterableIterator<BlockEntry> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }

  /** Position of the entry with this block index (binary search), or -1. */
  find(index: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.#table.readUInt32LE(mid * ENTRY);
      if (v === index) return mid;
      if (v < index) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Block ids (hex) of all entries. */
  *ids(): IterableIterator<string> {
    for (let i = 0; i < this.count; i++) yield this.#table.toString('hex', i * ENTRY + 8, (i + 1) * ENTRY);
  }

  /** The distinct block ids, sorted: the body of the backup's id list (format v2). */
  uniqueIds(): Buffer {
    const views: Buffer[] = [];
    for (let i = 0; i < this.count; i++) views.push(this.#table.subarray(i * ENTRY + 8, (i + 1) * ENTRY));
    views.sort(Buffer.compare);
    const out = Buffer.allocUnsafe(views.length * 32);
    let n = 0;
    for (const v of views) {
      if (n > 0 && out.subarray((n - 1) * 32, n * 32).equals(v)) continue;
      v.copy(out, n * 32);
      n++;
    }
    return out.subarray(0, n * 32);
  }

  /** Positions of the entries holding this id. */
  positionsOf(id: Buffer): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) if (this.#table.subarray(i * ENTRY + 8, (i + 1) * ENTRY).equals(id)) out.push(i);
    return out;
  }

  /** Sum of entry lengths: the non-zero bytes of the backup. */
  get bytes(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) n += this.#table.readUInt32LE(i * ENTRY + 4);
    return n;
  }
}

/** Collects entries in any order; `build()` sorts them and rejects duplicate indices. */
export class BlockMapBuilder {
  #parts: Buffer[] = [];
  #cur = Buffer.alloc(ENTRY * 4096);
  #fill = 0;
  #sorted = true;
  #last = -1;

  add(index: number, length: number, id: Buffer): void {
    if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw new RangeError(`block index ${index} out of range`);
    if (id.length !== 32) throw new RangeError('block id must be 32 bytes');
    if (this.#fill === this.#cur.length) {
      this.#parts.push(this.#cur);
      this.#cur = Buffer.alloc(this.#cur.length);
      this.#fill = 0;
    }
    this.#cur.writeUInt32LE(index, this.#fill);
    this.#cur.writeUInt32LE(length, this.#fill + 4);
    id.copy(this.#cur, this.#fill + 8);
    this.#fill += ENTRY;
    if (index <= this.#last) this.#sorted = false;
    this.#last = Math.max(this.#last, index);
  }

  build(): BlockMap {
    let table = Buffer.concat([...this.#parts, this.#cur.subarray(0, this.#fill)]);
    if (!this.#sorted) {
      const n = table.length / ENTRY;
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => table.readUInt32LE(a * ENTRY) - table.readUInt32LE(b * ENTRY));
      const sorted = Buffer.alloc(table.length);
      order.forEach((from, to) => table.copy(sorted, to * ENTRY, from * ENTRY, (from + 1) * ENTRY));
      table = sorted;
    }
    for (let i = 1; i < table.length / ENTRY; i++) {
      if (table.readUInt32LE(i * ENTRY) === table.readUInt32LE((i - 1) * ENTRY))
        throw new RangeError(`duplicate block index ${table.readUInt32LE(i * ENTRY)}`);
    }
    return BlockMap.fromTable(table);
  }
}
