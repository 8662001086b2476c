// The fs driver's deferred puts (PutOptions.deferred): written to their temporary files without
// fsync, and made durable and visible together by a flush: fsync every file, rename each into
// place, fsync each directory once. Two fsyncs per object in the pipeline become one pass at the
// barrier (a backup flushes before it writes anything that refers to them).
//
// Every AUTO_FLUSH puts the batch is flushed by the put that fills it, so a long backup neither
// holds an unbounded list nor leaves temporary files old enough for cleanupStale to take.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, fsyncFile } from './fs-temp.js';

/** Deferred puts flushed together at most (about 512 MiB of 2 MiB blocks). */
export const AUTO_FLUSH = 256;
/** fsyncs in flight during a flush. */
const PARALLEL = 16;

export class DeferredPuts {
  /** temporary file → its object's file */
  #pending = new Map<string, string>();
  readonly #running = new Set<Promise<void>>();
  readonly #limit: number;

  constructor(limit = AUTO_FLUSH) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Records a written temporary file; when the batch is full, flushes it before answering. */
  async add(tmp: string, file: string): Promise<void> {
    this.#pending.set(tmp, file);
    if (this.#pending.size >= this.#limit) await this.flush();
  }

  /** Makes every recorded object durable and visible, and waits for flushes already running. */
  async flush(): Promise<void> {
    const batch = [...this.#pending];
    this.#pending = new Map();
    const mine = batch.length === 0 ? undefined : flushBatch(batch);
    if (mine !== undefined) {
      this.#running.add(mine);
      void mine.finally(() => this.#running.delete(mine)).catch(() => undefined);
    }
    await Promise.all(this.#running);
  }

  /** Removes the temporary files of puts never flushed (the store is closing). */
  async drop(): Promise<void> {
    const batch = [...this.#pending.keys()];
    this.#pending = new Map();
    await Promise.all(batch.map((tmp) => fs.rm(tmp, { force: true })));
  }
}

async function flushBatch(batch: readonly (readonly [string, string])[]): Promise<void> {
  await inParallel(batch, ([tmp]) => fsyncFile(tmp));
  for (const [tmp, file] of batch) await fs.rename(tmp, file);
  await inParallel([...new Set(batch.map(([, file]) => path.dirname(file)))], fsyncDir);
}

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}
