// cpuprofile.ts: self and total time of a small hand-made profile, by function and by package.
import { describe, expect, it } from 'vitest';
import { packageOf, parseProfile, summarize, type CallFrame, type CpuProfile } from './cpuprofile.js';

const frame = (functionName: string, url: string, lineNumber = 0): CallFrame => ({ functionName, url, lineNumber, columnNumber: 0 });

// (root) → main (backup.ts) → hash (recursive: hash → hash) ; main → (garbage collector)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2] },
    { id: 2, callFrame: frame('main', 'file:///r/packages/blockstore/src/backup.ts', 9), children: [3, 5] },
    { id: 3, callFrame: frame('hash', 'file:///r/node_modules/@noble/hashes/sha2.js'), children: [4] },
    { id: 4, callFrame: frame('hash', 'file:///r/node_modules/@noble/hashes/sha2.js'), children: [] },
    { id: 5, callFrame: frame('(garbage collector)', ''), children: [] },
  ],
  startTime: 0,
  endTime: 10_000,
  // A sample lasts until the next: main 1 ms, hash 2 ms, inner hash 3 ms, GC 4 ms (until endTime).
  samples: [2, 3, 4, 5],
  timeDeltas: [0, 1000, 2000, 3000],
};

describe('cpuprofile summary', () => {
  it('counts self time at the top of the stack and total time once per sample, recursion included', () => {
    const s = summarize([profile], 'function');
    const row = (k: string): { selfMs: number; totalMs: number } | undefined => s.rows.find((r) => r.key.startsWith(k));
    expect(s.durationMs).toBe(10);
    expect(row('main')).toEqual(expect.objectContaining({ selfMs: 1, totalMs: 10 }));
    expect(row('hash')).toEqual(expect.objectContaining({ selfMs: 5, totalMs: 5 }));
    expect(row('(garbage collector)')).toEqual(expect.objectContaining({ selfMs: 4, totalMs: 4 }));
    expect(s.rows.map((r) => r.key)).not.toContain('(root)');
    expect(s.rows.find((r) => r.key.startsWith('main'))?.key).toBe('main packages/blockstore/src/backup.ts:10');
  });

  it('groups frames by package: our packages, npm packages, node internals and V8', () => {
    const keys = summarize([profile], 'package').rows.map((r) => r.key);
    expect(keys.sort()).toEqual(['(garbage collector)', '@convoy/blockstore', '@noble/hashes']);
    expect(packageOf(frame('readFile', 'node:fs/promises'))).toBe('node:internal');
    expect(packageOf(frame('x', 'file:///w/apps/backup/src/main.ts'))).toBe('apps/backup');
    expect(packageOf(frame('x', 'file:///tmp/b/convoy-src/tools/source-resolve.ts'))).toBe('tools/source-resolve.ts');
  });

  it('refuses a file that is not a CPU profile, naming it', () => {
    expect(() => parseProfile('{"nodes": 3}', 'x.cpuprofile')).toThrow(/x\.cpuprofile: not a V8 CPU profile/);
    expect(() => parseProfile('nope', 'y.cpuprofile')).toThrow(/y\.cpuprofile: not JSON/);
  });
});
