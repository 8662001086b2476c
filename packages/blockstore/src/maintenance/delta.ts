import type { ObjectStore } from '@convoy/objectstore';
import { ID_BYTES } from '../format/ref-file.js';
import { shardOfId, type RunRef } from '../refs/generation.js';
import { forEachIndex } from '../pool.js';
import { RunWriter } from '../refs/runs.js';

const REC = ID_BYTES + 4;

/**
 * Collects (id, ±count) changes for the reference index and writes them as sorted level-0 runs,
 * one per shard. Memory is bounded by `budgetRecords`: past it, what is held is sorted and
 * written as runs, and collection goes on (more, smaller runs; compaction merges them later).
 */
export class DeltaBuilder {
  readonly #store: ObjectStore;
  readonly #gen: number;
  readonly #digits: number;
  readonly #budget: number;
  readonly #signal: AbortSignal | undefined;
  /** Per shard: raw 36-byte records in chunks (no JS object per record: 1 M records ≈ 36 MB). */
  #buckets = new Map<string, { chunks: Buffer[]; cur: Buffer; fill: number }>();
  #held = 0;
  readonly runs = new Map<string, RunRef[]>();
  recordsIn = 0;
  recordsWritten = 0;

  constructor(store: ObjectStore, gen: number, digits: number, budgetRecords: number, signal?: AbortSignal) {
    this.#store = store;
    this.#gen = gen;
    this.#digits = digits;
    this.#budget = budgetRecords;
    this.#signal = signal;
  }

  /** Adds `delta` for every id of a sorted id-list page (32-byte ids). */
  async addIds(page: Buffer, delta: number): Promise<void> {
    for (let i = 0; i < page.length; i += ID_BYTES) {
      const id = page.subarray(i, i + ID_BYTES);
      const shard = shardOfId(id, this.#digits);
      let b = this.#buckets.get(shard);
      if (b === undefined) this.#buckets.set(shard, (b = { chunks: [], cur: Buffer.allocUnsafe(REC * 1024), fill: 0 }));
      if (b.fill === b.cur.length) {
        b.chunks.push(b.cur);
        b.cur = Buffer.allocUnsafe(b.cur.length);
        b.fill = 0;
      }
      id.copy(b.cur, b.fill);
      b.cur.writeInt32LE(delta, b.fill + ID_BYTES);
      b.fill += REC;
      this.#held++;
      this.recordsIn++;
    }
    if (this.#held >= this.#budget) await this.flush();
  }

  /** Sorts what is held, sums equal ids, drops zero sums, writes one run per shard. */
  async flush(): Promise<void> {
    const buckets = [...this.#buckets.entries()].sort(([a], [b]) => a.localeCompare(b));
    await forEachIndex(
      buckets.length,
      16,
      async (k) => {
        const [shard, b] = buckets[k] as [string, { chunks: Buffer[]; cur: Buffer; fill: number }];
        const all = Buffer.concat([...b.chunks, b.cur.subarray(0, b.fill)]);
        // One shard's records as views at a time: the objects are transient, the bytes are `all`.
        const recs = Array.from({ length: all.length / REC }, (_, j) => all.subarray(j * REC, (j + 1) * REC));
        recs.sort((x, y) => x.compare(y, 0, ID_BYTES, 0, ID_BYTES));
        const w = new RunWriter();
        for (let i = 0; i < recs.length;) {
          const first = recs[i] as Buffer;
          let sum = 0;
          while (i < recs.length && (recs[i] as Buffer).compare(first, 0, ID_BYTES, 0, ID_BYTES) === 0)
            sum += (recs[i++] as Buffer).readInt32LE(ID_BYTES);
          const id = first.subarray(0, ID_BYTES);
          if (sum !== 0) w.add(id, sum);
        }
        const ref = await w.write(this.#store, shard, this.#gen, this.#signal);
        if (ref !== undefined) {
          this.recordsWritten += ref.records;
          const list = this.runs.get(shard) ?? [];
          list.push(ref);
          this.runs.set(shard, list);
        }
      },
      this.#signal,
    );
    this.#buckets = new Map();
    this.#held = 0;
  }
}
