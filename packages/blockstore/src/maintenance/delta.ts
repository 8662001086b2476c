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
  #buckets = new Map<string, Buffer[]>();
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
      const rec = Buffer.allocUnsafe(REC);
      id.copy(rec, 0);
      rec.writeInt32LE(delta, ID_BYTES);
      const shard = shardOfId(id, this.#digits);
      let b = this.#buckets.get(shard);
      if (b === undefined) this.#buckets.set(shard, (b = []));
      b.push(rec);
      this.#held++;
      this.recordsIn++;
    }
    if (this.#held >= this.#budget) await this.flush();
  }

  /** Sorts what is held, sums equal ids, drops zero sums, writes one run per shard. */
  async flush(): Promise<void> {
    const buckets = [...this.#buckets.entries()].sort(([a], [b]) => a.localeCompare(b));
    await forEachIndex(buckets.length, 16, async (k) => {
      const [shard, recs] = buckets[k] as [string, Buffer[]];
      recs.sort((a, b) => Buffer.compare(a.subarray(0, ID_BYTES), b.subarray(0, ID_BYTES)));
      const w = new RunWriter();
      for (let i = 0; i < recs.length; ) {
        const id = (recs[i] as Buffer).subarray(0, ID_BYTES);
        let sum = 0;
        while (i < recs.length && (recs[i] as Buffer).subarray(0, ID_BYTES).equals(id)) sum += (recs[i++] as Buffer).readInt32LE(ID_BYTES);
        if (sum !== 0) w.add(id, sum);
      }
      const ref = await w.write(this.#store, shard, this.#gen, this.#signal);
      if (ref !== undefined) {
        this.recordsWritten += ref.records;
        const list = this.runs.get(shard) ?? [];
        list.push(ref);
        this.runs.set(shard, list);
      }
    }, this.#signal);
    this.#buckets = new Map();
    this.#held = 0;
  }
}
