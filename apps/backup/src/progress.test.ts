import { Writable } from 'node:stream';
import type { Progress } from '@convoy/blockstore';
import { describe, expect, it } from 'vitest';
import { createProgress, progressMode } from './progress.js';

function capture(isTTY = false): { stream: Writable & { isTTY?: boolean; columns?: number }; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  if (isTTY) {
    stream.isTTY = true;
    stream.columns = 120;
  }
  return { stream, text: () => text };
}

const step = (blocksDone: number, blocksTotal = 10): Progress => ({
  phase: 'backup',
  bytesDone: blocksDone * 1024 * 1024,
  bytesTotal: blocksTotal * 1024 * 1024,
  blocksDone,
  blocksTotal,
  bytesTransferred: blocksDone * 1000,
});

describe('progressMode', () => {
  it('draws a bar only on a terminal, JSON lines with --json, nothing with --quiet', () => {
    expect(progressMode({ json: false, quiet: false, isTTY: true })).toBe('bar');
    expect(progressMode({ json: false, quiet: false, isTTY: false })).toBe('off');
    expect(progressMode({ json: true, quiet: false, isTTY: true })).toBe('json');
    expect(progressMode({ json: true, quiet: true, isTTY: true })).toBe('off');
  });
});

describe('JSON progress lines', () => {
  it('writes the first update, then at most one per interval, then the last state', () => {
    let t = 0;
    const out = capture();
    const p = createProgress('json', out.stream, { label: 'backup', now: () => t, intervalMs: 100 });
    p.update(step(1)); // t=0: written
    t = 50;
    p.update(step(2)); // throttled
    t = 120;
    p.update(step(3)); // written
    t = 130;
    p.update(step(4)); // throttled, but written by stop()
    p.stop();
    p.update(step(5)); // after stop: ignored
    const lines = out.text().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.blocksDone)).toEqual([1, 3, 4]);
    expect(lines[1]).toEqual({ type: 'progress', ...step(3), elapsedMs: 120, bytesPerSecond: Math.round((3 * 1024 * 1024 * 1000) / 120) });
  });

  it('always writes the final update', () => {
    let t = 0;
    const out = capture();
    const p = createProgress('json', out.stream, { label: 'backup', now: () => t, intervalMs: 1000 });
    p.update(step(1));
    t = 1;
    p.update(step(10));
    expect(out.text().trimEnd().split('\n')).toHaveLength(2);
  });
});

describe('terminal bar', () => {
  it('draws bytes done, total, rate and ETA on a TTY stream', () => {
    let t = 0;
    const out = capture(true);
    const p = createProgress('bar', out.stream, { label: 'backup', now: () => t });
    t = 1000;
    p.update(step(5));
    p.stop();
    expect(out.text()).toMatch(/backup \[.*\] 50% \| 5\.0 MiB \/ 10\.0 MiB \| 5\.0 MiB\/s \| ETA 1\.0 s/);
  });

  it('draws nothing when there is no total to measure against', () => {
    const out = capture(true);
    const p = createProgress('bar', out.stream, { label: 'gc' });
    p.update({ phase: 'gc', bytesDone: 0, bytesTotal: 0, blocksDone: 3, blocksTotal: 0, bytesTransferred: 0 });
    p.stop();
    expect(out.text()).toBe('');
  });
});
