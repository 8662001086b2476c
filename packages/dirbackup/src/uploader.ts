// Uploads content-addressed blocks (file chunks and index segments) for one backup: each distinct
// id once, only when a `stat` does not find it (never assumed from the parent) or it is marked
// damaged; and remembers every id the backup references, with where its bytes came from, for the
// add marker, the reference list and the commit guard.
import { blockKey, BlockMap, encodeBlock, IdSet, type Compression, type OpenedStore } from '@convoy/blockstore';

/** Where a referenced block's bytes can be read again: a file range, or bytes kept in memory. */
type Origin = { file: string; offset: number } | { bytes: Buffer } | undefined;

export interface UploadStats {
  blocksUploaded: number;
  bytesUploaded: number;
}

export class Uploader {
  readonly stats: UploadStats = { blocksUploaded: 0, bytesUploaded: 0 };
  readonly #opened: OpenedStore;
  readonly #compression: Compression;
  readonly #damaged: IdSet;
  readonly #signal: AbortSignal | undefined;
  readonly #claimed = new IdSet();
  /** id → [length, origin] of everything this backup references. */
  readonly #refs = new Map<string, [number, Origin]>();
  readonly repaired: string[] = [];

  constructor(opened: OpenedStore, compression: Compression, damaged: IdSet, signal: AbortSignal | undefined) {
    this.#opened = opened;
    this.#compression = compression;
    this.#damaged = damaged;
    this.#signal = signal;
  }

  /** The block is known damaged: a file whose cached chunks include one is read again. */
  isDamaged(hex: string): boolean {
    return this.#damaged.has(hex) && !this.repaired.includes(hex);
  }

  /** Records a reference without uploading (a chunk the files cache took from the parent). */
  reference(hex: string, length: number, origin: Origin): void {
    if (!this.#refs.has(hex)) this.#refs.set(hex, [length, origin]);
  }

  /**
   * Uploads `data` (whose id is `hex`) unless the store holds it. `keep`: remember the bytes for
   * the commit guard (index segments, which no file holds).
   */
  async put(hex: string, data: Buffer, origin: Origin): Promise<void> {
    const known = this.#refs.get(hex);
    if (known === undefined || known[1] === undefined) this.#refs.set(hex, [data.length, origin]);
    if (!this.#claimed.add(hex)) return;
    const sig = this.#signal === undefined ? {} : { signal: this.#signal };
    const bad = this.#damaged.has(hex);
    if (!bad && (await this.#opened.store.stat(blockKey(hex), sig)) !== undefined) return;
    const obj = await encodeBlock(this.#compression, data);
    await this.#opened.store.put(blockKey(hex), obj, sig);
    this.stats.blocksUploaded++;
    this.stats.bytesUploaded += obj.length;
    if (bad) this.repaired.push(hex);
  }

  /** The distinct referenced ids, sorted (the add marker's body). */
  ids(): Buffer {
    const hexes = [...this.#refs.keys()].sort();
    const out = Buffer.allocUnsafe(hexes.length * 32);
    hexes.forEach((h, i) => out.write(h, i * 32, 'hex'));
    return out;
  }

  /** The reference list: the block map of a directory backup (index = ordinal, length, id). */
  referenceMap(): BlockMap {
    const b = BlockMap.builder();
    [...this.#refs.keys()].sort().forEach((h, i) => b.add(i, this.#refs.get(h)![0], Buffer.from(h, 'hex')));
    return b.build();
  }

  /** Where the bytes of a referenced block can be read again (for the commit guard). */
  origin(hex: string): Origin {
    return this.#refs.get(hex)?.[1];
  }

  get referenced(): number {
    return this.#refs.size;
  }
}
