// Reading chunks out of packs: one range GET per chunk (a single file's restore), or whole packs
// kept in a small cache (a full restore reads packs in the order they were written).
import { asBlockCorrupt, blockKey, blockMissing, decodeBlock, fetchBlock, type OpenedStore } from '@convoy/blockstore';
import { ObjectNotFoundError } from '@convoy/objectstore';
import type { PackLocation } from './pack-map.js';

/** A block object's header: the pack's bytes start after it (packs are stored uncompressed). */
const BLOCK_HEADER = 12;

/** One chunk by range GET; the chunk's own block object is verified (its id, its length). */
export async function readPacked(
  opened: OpenedStore,
  chunk: string,
  loc: PackLocation,
  signal?: AbortSignal,
): Promise<{ data: Buffer; stored: number }> {
  const key = blockKey(loc.pack);
  let bytes: Buffer;
  try {
    bytes = await opened.store.get(key, { range: { offset: BLOCK_HEADER + loc.offset, length: loc.length }, signal });
  } catch (err) {
    if (err instanceof ObjectNotFoundError) throw blockMissing(key);
    throw asBlockCorrupt(key, err);
  }
  return { data: await decodeBlock(`${key} [${loc.offset}+${loc.length}]`, chunk, bytes, opened.ids), stored: bytes.length };
}

/** Whole packs, fetched once each (verified against their id) and kept while they are being read. */
export class PackCache {
  readonly #opened: OpenedStore;
  readonly #signal: AbortSignal | undefined;
  readonly #packs = new Map<string, Promise<Buffer>>();
  readonly #limit: number;
  fetched = 0;
  bytesFetched = 0;

  constructor(opened: OpenedStore, signal: AbortSignal | undefined, limit = 3) {
    this.#opened = opened;
    this.#signal = signal;
    this.#limit = limit;
  }

  async read(chunk: string, loc: PackLocation): Promise<Buffer> {
    let p = this.#packs.get(loc.pack);
    if (p === undefined) {
      p = fetchBlock(this.#opened, loc.pack, this.#signal).then(({ data, stored }) => {
        this.fetched++;
        this.bytesFetched += stored;
        return data;
      });
      p.catch(() => undefined);
      this.#packs.set(loc.pack, p);
      while (this.#packs.size > this.#limit) this.#packs.delete(this.#packs.keys().next().value as string);
    } else {
      this.#packs.delete(loc.pack); // most recently used last
      this.#packs.set(loc.pack, p);
    }
    const pack = await p;
    const key = `${blockKey(loc.pack)} [${loc.offset}+${loc.length}]`;
    return decodeBlock(key, chunk, pack.subarray(loc.offset, loc.offset + loc.length), this.#opened.ids);
  }
}
