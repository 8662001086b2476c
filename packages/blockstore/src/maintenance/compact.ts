import type { ObjectStore } from '@convoy/objectstore';
import type { RunRef } from '../refs/generation.js';
import { RecordCursor, RunWriter, mergeCursors } from '../refs/runs.js';

/** Runs a shard may have before quick maintenance compacts it. */
export const MAX_RUNS = 4;
/** Past this many runs the smallest are merged even if unlike in size (bounds reads per shard). */
export const HARD_MAX_RUNS = 24;

/**
 * Which runs of a shard to merge (size-tiered, as LSM trees do): none while the shard has at most
 * MAX_RUNS; else the smallest runs that are alike in size (each at most twice the sum of the ones
 * before it), so a record is rewritten O(log(index / changes)) times, never once per maintenance.
 * Runs unlike in size stay apart (a shard then holds about log2(index / changes) runs), up to
 * HARD_MAX_RUNS. A full maintenance merges everything into one run.
 */
export function pickMerge(runs: readonly RunRef[], full: boolean): RunRef[] {
  if (full) return runs.length > 1 ? [...runs] : [];
  if (runs.length <= MAX_RUNS) return [];
  const sorted = [...runs].sort((a, b) => a.records - b.records);
  const group: RunRef[] = [sorted[0] as RunRef];
  let sum = (sorted[0] as RunRef).records;
  for (let k = 1; k < sorted.length; k++) {
    const r = sorted[k] as RunRef;
    if (r.records > 2 * sum + 64) break;
    group.push(r);
    sum += r.records;
  }
  if (group.length >= 2) return group;
  return runs.length > HARD_MAX_RUNS ? sorted.slice(0, 2) : [];
}

export interface CompactResult {
  run: RunRef | undefined;
  recordsRead: number;
  /** Ids whose summed count went below zero (a damaged index): reported, kept as referenced. */
  negative: number;
}

/** Merges runs of one shard into one (zero sums dropped: nothing references those ids). */
export async function mergeRuns(
  store: ObjectStore,
  shard: string,
  gen: number,
  runs: readonly RunRef[],
  signal?: AbortSignal,
): Promise<CompactResult> {
  const w = new RunWriter();
  let recordsRead = 0;
  let negative = 0;
  await mergeCursors(
    runs.map((r) => RecordCursor.ofRun(store, r, signal)),
    (id, sum) => {
      recordsRead++;
      if (sum < 0) negative++;
      if (sum !== 0) w.add(id, sum);
    },
  );
  return { run: await w.write(store, shard, gen, signal), recordsRead, negative };
}
