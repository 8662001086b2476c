import { describe, expect, it } from 'vitest';
import type { RunRef } from '../refs/generation.js';
import { HARD_MAX_RUNS, MAX_RUNS, pickMerge } from './compact.js';

const run = (records: number, n = 0): RunRef => ({ key: `refs/runs/00/${records}-${n}.run`, records, bytes: 44 + records * 36 });

describe('pickMerge (size-tiered compaction)', () => {
  it('merges nothing while a shard has at most MAX_RUNS runs', () => {
    expect(
      pickMerge(
        Array.from({ length: MAX_RUNS }, (_, i) => run(10, i)),
        false,
      ),
    ).toEqual([]);
  });

  it('merges the smallest runs alike in size, never the big base with a small new run', () => {
    const base = run(1_000_000);
    const picked = pickMerge([base, run(1000), run(100), run(40, 1), run(40, 2)], false);
    expect(picked.map((r) => r.records).sort((a, b) => a - b)).toEqual([40, 40, 100]);
    expect(picked).not.toContain(base);
  });

  it('leaves runs unlike in size apart, up to a hard limit, then merges the two smallest', () => {
    const geometric = Array.from({ length: 10 }, (_, i) => run(1000 * 10 ** Math.min(i, 6), i));
    expect(pickMerge(geometric, false)).toEqual([]);
    const many = Array.from({ length: HARD_MAX_RUNS + 1 }, (_, i) => run(1000 * 3 ** i, i));
    expect(pickMerge(many, false).map((r) => r.records)).toEqual([1000, 3000]);
  });

  it('a full maintenance merges every run of a shard into one', () => {
    const runs = [run(1), run(1_000_000)];
    expect(pickMerge(runs, true)).toEqual(runs);
    expect(pickMerge([run(5)], true)).toEqual([]);
  });
});
