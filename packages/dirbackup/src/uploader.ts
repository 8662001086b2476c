// Uploads what a directory backup references: small chunks into packs (several MiB each, so a
// tree of many small files is not one PUT per file), other chunks and the index's own objects as
// loose content-addressed blocks — each once, and only when the store lacks it (a `stat`; never
// assumed from the parent). Remembers every id the backup references, for the add marker, the
// reference list and the commit guard, and where each packed chunk lies (the pack map).
import { blockKey, BlockMap, encodeBlock, IdSet, type Compression, type OpenedStore } from '@convoy/blockstore';
import { readPacked } from './pack-io.js';
import { PackMap } from './pack-map.js';

const BLOCK_MAGIC = Buffer.from('CVB1');

/** Where a referenced block's bytes can be read again: a file range, or bytes kept in memory. */
export type Origin = { file: string; offset: number } | { bytes: Buffer } | undefined;

export interface PackOptions {
  /** Chunks shorter than this go into packs (default 512 KiB: whole small files, tails of large ones). */
  chunkBelow?: number;
  /** A pack is written once it holds this many bytes (default 8 MiB). */
  packBytes?: number;
  /**
   * A parent's pack of which this backup uses less than this fraction (by bytes) is not
   * referenced: the chunks used are copied into new packs (default 0.5; 0 never repacks).
   */
  repackBelow?: number;
}

export interface UploadStats {
  blocksUploaded: number;
  bytesUploaded: number;
  packsWritten: number;
  packsRepacked: number;
}

interface OpenPack {
  parts: Buffer[];
  bytes: number;
  /** chunk id, offset in the pack, object length, where its bytes can be read again */
  chunks: [string, number, number, Origin][];
}

export class Uploader {
  readonly stats: UploadStats = { blocksUploaded: 0, bytesUploaded: 0, packsWritten: 0, packsRepacked: 0 };
  readonly repaired: string[] = [];
  /** Keys of the objects this backup wrote (confirmed before its manifest is written). */
  readonly uploaded: string[] = [];
  readonly #opened: OpenedStore;
  readonly #compression: Compression;
  readonly #damaged: IdSet;
  readonly #signal: AbortSignal | undefined;
  readonly #claimed = new IdSet();
  /** id → [length, origin] of every loose block this backup references. */
  readonly #refs = new Map<string, [number, Origin]>();
  readonly #parent: PackMap | undefined;
  readonly #packed = new PackMap();
  /** Packs written by this backup, with their chunks in order and where each came from (to rebuild one). */
  readonly #fresh = new Map<string, { hex: string; origin: Origin }[]>();
  readonly #opts: Required<PackOptions>;
  #open: OpenPack = { parts: [], bytes: 0, chunks: [] };
  /** Uncompressed lengths of the chunks this backup packed. */
  readonly #lengths = new Map<string, number>();
  #pending = new Set<string>();

  constructor(
    opened: OpenedStore,
    compression: Compression,
    damaged: IdSet,
    signal: AbortSignal | undefined,
    parentPacks?: PackMap,
    options: PackOptions = {},
  ) {
    this.#opened = opened;
    this.#compression = compression;
    this.#damaged = damaged;
    this.#signal = signal;
    this.#parent = parentPacks;
    this.#opts = {
      chunkBelow: options.chunkBelow ?? 512 * 1024,
      packBytes: options.packBytes ?? 8 * 1024 * 1024,
      repackBelow: options.repackBelow ?? 0.5,
    };
  }

  /** Chunks shorter than this go into packs. */
  get packBelow(): number {
    return this.#opts.chunkBelow;
  }

  /** The block is known damaged: a file whose cached chunks include one is read again. */
  isDamaged(hex: string): boolean {
    return this.#damaged.has(hex) && !this.repaired.includes(hex);
  }

  /** Records a chunk the files cache took from the parent (no upload; in the parent's pack if it was). */
  reference(hex: string, length: number, origin: Origin): boolean {
    if (this.#packed.get(hex) !== undefined || this.#pending.has(hex) || this.#refs.has(hex)) return true;
    const loc = this.#parent?.get(hex);
    if (loc !== undefined) {
      if (this.#damaged.has(loc.pack)) return false; // read the file again: it goes into a new pack
      this.#packed.set(hex, loc, this.#parent!.packs.get(loc.pack)!);
      return true;
    }
    this.#refs.set(hex, [length, origin]);
    return true;
  }

  /** A file chunk: into a pack when small, else a loose block. */
  async putChunk(hex: string, data: Buffer, origin: Origin, encoded?: Buffer): Promise<void> {
    if (data.length >= this.#opts.chunkBelow) return this.putBlock(hex, data, origin);
    if (this.#packed.get(hex) !== undefined || this.#pending.has(hex) || this.#refs.has(hex)) return; // referenced already
    const loc = this.#parent?.get(hex);
    if (loc !== undefined && !this.#damaged.has(loc.pack)) {
      this.#packed.set(hex, loc, this.#parent!.packs.get(loc.pack)!);
      return;
    }
    await this.#append(hex, data, origin, encoded);
  }

  /** A loose block (a large chunk, an index segment, the pack map), uploaded unless the store holds it. */
  async putBlock(hex: string, data: Buffer, origin: Origin): Promise<void> {
    const known = this.#refs.get(hex);
    if (known === undefined || known[1] === undefined) this.#refs.set(hex, [data.length, origin]);
    if (!this.#claimed.add(hex)) return;
    const sig = this.#signal === undefined ? {} : { signal: this.#signal };
    const bad = this.#damaged.has(hex);
    if (!bad && (await this.#opened.store.stat(blockKey(hex), sig)) !== undefined) return;
    const obj = await encodeBlock(this.#compression, data);
    // deferred: made durable together by the backup's flush, before anything refers to it
    await this.#opened.store.put(blockKey(hex), obj, { ...sig, deferred: true });
    this.uploaded.push(blockKey(hex));
    this.stats.blocksUploaded++;
    this.stats.bytesUploaded += obj.length;
    if (bad) this.repaired.push(hex);
  }

  async #append(hex: string, data: Buffer, origin: Origin, encoded?: Buffer): Promise<void> {
    this.#pending.add(hex);
    this.#lengths.set(hex, data.length);
    const obj = encoded ?? (await encodeBlock(this.#compression, data));
    const p = this.#open;
    p.chunks.push([hex, p.bytes, obj.length, origin]);
    p.parts.push(obj);
    p.bytes += obj.length;
    if (p.bytes >= this.#opts.packBytes) await this.#flush();
  }

  async #flush(): Promise<void> {
    const p = this.#open;
    if (p.chunks.length === 0) return;
    this.#open = { parts: [], bytes: 0, chunks: [] };
    // The pack's block object (codec 0: its chunks are compressed already) in one copy.
    const head = Buffer.alloc(12);
    BLOCK_MAGIC.copy(head, 0);
    head.writeUInt32LE(p.bytes, 8);
    const obj = Buffer.concat([head, ...p.parts], 12 + p.bytes);
    p.parts.length = 0;
    const bytes = obj.subarray(12);
    const id = this.#opened.ids.digest(bytes).toString('hex');
    const sig = this.#signal === undefined ? {} : { signal: this.#signal };
    if (this.#claimed.add(id) && (this.#damaged.has(id) || (await this.#opened.store.stat(blockKey(id), sig)) === undefined)) {
      await this.#opened.store.put(blockKey(id), obj, { ...sig, deferred: true });
      this.uploaded.push(blockKey(id));
      this.stats.blocksUploaded++;
      this.stats.bytesUploaded += obj.length;
      this.stats.packsWritten++;
    }
    this.#fresh.set(
      id,
      p.chunks.map(([hex, , , origin]) => ({ hex, origin })),
    );
    for (const [hex, offset, length] of p.chunks) {
      this.#packed.set(hex, { pack: id, offset, length }, bytes.length);
      this.#pending.delete(hex);
    }
  }

  /**
   * Writes the last pack, repacks the parent's packs this backup uses too little of, and answers
   * the pack map (packed chunk → location) to store with the backup.
   */
  async finish(): Promise<PackMap> {
    await this.#flush();
    const used = new Map<string, number>();
    for (const [, l] of this.#packed.entries()) if (!this.#fresh.has(l.pack)) used.set(l.pack, (used.get(l.pack) ?? 0) + l.length);
    const sparse = new Set([...used].filter(([p, n]) => n < this.#opts.repackBelow * (this.#packed.packs.get(p) ?? 0)).map(([p]) => p));
    for (const [hex, l] of [...this.#packed.entries()]) {
      if (!sparse.has(l.pack)) continue;
      const { data } = await readPacked(this.#opened, hex, l, this.#signal);
      this.#packed.delete(hex);
      await this.#append(hex, data, undefined); // its old pack may be gone by the commit guard: not rebuilt
    }
    await this.#flush();
    this.stats.packsRepacked = sparse.size;
    return this.#packed;
  }

  /**
   * The block object of a pack this backup wrote, built again from its chunks' sources (for the
   * commit guard, when a sweep removed it meanwhile), or undefined when that is not possible (a
   * parent's pack, a repacked chunk, a file that changed since): the backup then fails.
   */
  async rebuildPack(
    id: string,
    read: (file: string, offset: number, length: number) => Promise<Buffer | undefined>,
  ): Promise<Buffer | undefined> {
    const chunks = this.#fresh.get(id);
    if (chunks === undefined) return undefined;
    const parts: Buffer[] = [];
    for (const { hex, origin } of chunks) {
      const length = this.#lengths.get(hex);
      if (origin === undefined || length === undefined) return undefined;
      const data = 'bytes' in origin ? origin.bytes : await read(origin.file, origin.offset, length);
      if (data === undefined || this.#opened.ids.digest(data).toString('hex') !== hex) return undefined;
      parts.push(await encodeBlock(this.#compression, data));
    }
    const payload = Buffer.concat(parts);
    if (this.#opened.ids.digest(payload).toString('hex') !== id) return undefined;
    const head = Buffer.alloc(12);
    BLOCK_MAGIC.copy(head, 0);
    head.writeUInt32LE(payload.length, 8);
    return Buffer.concat([head, payload]);
  }

  /** Every id the backup references: loose blocks and the packs its packed chunks lie in. */
  #all(): Map<string, number> {
    const all = new Map<string, number>();
    for (const [h, [len]] of this.#refs) all.set(h, len);
    for (const [, l] of this.#packed.entries()) all.set(l.pack, this.#packed.packs.get(l.pack)!);
    return all;
  }

  /** The distinct referenced ids, sorted (the add marker's body). */
  ids(): Buffer {
    const hexes = [...this.#all().keys()].sort();
    const out = Buffer.allocUnsafe(hexes.length * 32);
    hexes.forEach((h, i) => out.write(h, i * 32, 'hex'));
    return out;
  }

  /** The reference list: the block map of a directory backup (index = ordinal, length, id). */
  referenceMap(): BlockMap {
    const all = this.#all();
    const b = BlockMap.builder();
    [...all.keys()].sort().forEach((h, i) => b.add(i, all.get(h)!, Buffer.from(h, 'hex')));
    return b.build();
  }

  /** Where the bytes of a referenced loose block can be read again (packs: nowhere; see commit guard). */
  origin(hex: string): Origin {
    return this.#refs.get(hex)?.[1];
  }

  lengthOf(hex: string): number | undefined {
    return this.#refs.get(hex)?.[0];
  }
}
