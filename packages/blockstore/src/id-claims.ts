/**
 * A set of block ids (hex) spread over 256 JS Sets by the id's first byte, so it holds up to
 * 256 × 16.7 M ids (a single Set throws above 2^24 entries, ~32 TiB of distinct 2 MiB blocks).
 */
export class IdSet {
  readonly #shards: Set<string>[] = Array.from({ length: 256 }, () => new Set<string>());

  #shard(hex: string): Set<string> {
    return this.#shards[Number.parseInt(hex.slice(0, 2), 16) & 0xff] as Set<string>;
  }

  has(hex: string): boolean {
    return this.#shard(hex).has(hex);
  }

  /** Adds the id; false if it was there already. */
  add(hex: string): boolean {
    const s = this.#shard(hex);
    if (s.has(hex)) return false;
    s.add(hex);
    return true;
  }

  delete(hex: string): boolean {
    return this.#shard(hex).delete(hex);
  }

  get size(): number {
    return this.#shards.reduce((n, s) => n + s.size, 0);
  }
}
