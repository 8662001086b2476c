import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, progressMode, type ProgressUpdate } from './progress.js';

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

/** A report as @convoy/blockstore makes it (bytesTransferred is passed on, not read). */
type Report = ProgressUpdate & { bytesTransferred: number };

const step = (blocksDone: number, blocksTotal = 10): Report => ({
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
  it('without quiet (convoy): JSON lines with --json, else a bar on a terminal', () => {
    expect(progressMode({ json: true, isTTY: false })).toBe('json');
    expect(progressMode({ json: false, isTTY: true })).toBe('bar');
    expect(progressMode({ json: false, isTTY: false })).toBe('off');
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
    const lines = out
      .text()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.blocksDone)).toEqual([1, 3, 4]);
    expect(lines[1]).toEqual({ type: 'progress', ...step(3), elapsedMs: 120, bytesPerSecond: Math.round((3 * 1024 * 1024 * 1000) / 120) });
  });

  it('writes the first update of each new phase at once (a daemon streams several)', () => {
    let t = 0;
    const out = capture();
    const p = createProgress('json', out.stream, { label: 'backup', now: () => t, intervalMs: 1000 });
    p.update({ ...step(1), phase: 'read' });
    t = 10;
    p.update({ ...step(2), phase: 'read' }); // throttled
    t = 20;
    p.update({ ...step(3), phase: 'upload' }); // new phase: written
    p.stop();
    const lines = out
      .text()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.phase, l.blocksDone])).toEqual([
      ['read', 1],
      ['upload', 3],
    ]);
  });

  it('passes the fields of a daemon event on, with type first', () => {
    const out = capture();
    const p = createProgress('json', out.stream, { label: 'backup', now: () => 0 });
    p.update({ type: 'progress', ...step(1), phase: 'read' } as ProgressUpdate);
    p.stop();
    expect(Object.keys(JSON.parse(out.text()) as object)).toEqual([
      'type',
      'phase',
      'bytesDone',
      'bytesTotal',
      'blocksDone',
      'blocksTotal',
      'bytesTransferred',
      'elapsedMs',
      'bytesPerSecond',
    ]);
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

  it('shows the phase after the ETA with showPhase', () => {
    let t = 0;
    const out = capture(true);
    const p = createProgress('bar', out.stream, { label: 'backup', now: () => t, showPhase: true });
    t = 1000;
    p.update({ ...step(5), phase: 'upload' });
    p.stop();
    expect(out.text()).toMatch(/backup \[.*\] 50% \| 5\.0 MiB \/ 10\.0 MiB \| 5\.0 MiB\/s \| ETA 1\.0 s \| upload/);
  });

  it('draws in bar mode even on a stream that is not a terminal: progressMode decided', () => {
    const out = capture(false);
    const p = createProgress('bar', out.stream, { label: 'restore', now: () => 0 });
    p.update(step(10));
    p.stop();
    expect(out.text()).toMatch(/restore \[.*\] 100% \| 10\.0 MiB \/ 10\.0 MiB/);
  });

  it('draws nothing when there is no total to measure against', () => {
    const out = capture(true);
    const p = createProgress('bar', out.stream, { label: 'gc' });
    const gc: Report = { phase: 'gc', bytesDone: 0, bytesTotal: 0, blocksDone: 3, blocksTotal: 0, bytesTransferred: 0 };
    p.update(gc);
    p.stop();
    expect(out.text()).toBe('');
  });
});
