import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { MaintenanceResult } from '@convoy/blockstore';
import { ConvoyError } from '@convoy/errors';
import { parseArgs } from './args.js';
import { maintenanceSchedule } from './config.js';
import { MaintenanceScheduler, type SchedulerOptions, type Timers } from './maintenance.js';

const HOUR = 3_600_000;

/** Timers that fire only when the test says so. */
class FakeTimers implements Timers {
  t = 0;
  #next = 0;
  pending: { id: number; at: number; fn: () => void }[] = [];
  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.#next;
    this.pending.push({ id, at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (handle: unknown): void => {
    this.pending = this.pending.filter((p) => p.id !== handle);
  };
  /** Moves the clock to the next timer and fires it. */
  fire(): void {
    this.pending.sort((a, b) => a.at - b.at);
    const p = this.pending.shift();
    if (p === undefined) throw new Error('no timer is armed');
    this.t = p.at;
    p.fn();
  }
}

interface LogLine {
  level: number;
  msg: string;
  store?: string;
  full?: boolean;
  code?: string;
  [k: string]: unknown;
}

function capturedLogger(): { log: SchedulerOptions['log']; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const result = (full: boolean): MaintenanceResult => ({
  full,
  generation: 7,
  merge: { adds: 2, deletes: 1, abandoned: 0, inFlight: 0, runsWritten: 1, runsMerged: 0, recordsWritten: 10, recordsMerged: 0 },
  problems: [],
  ...(full
    ? {
        sweep: {
          recordsSwept: 0,
          blocksDeleted: 3,
          blocksSpared: 0,
          blocksMarked: 4,
          blocksListed: 20,
          recordsPruned: 0,
          orphanMapsDeleted: 0,
          staleRemoved: 0,
          leasesRemoved: 0,
        },
      }
    : {}),
});

interface Call {
  url: string;
  full: boolean;
  signal: AbortSignal;
}

function setup(schedule: { quickEveryMs: number | null; fullEveryMs: number | null }, run?: (c: Call) => Promise<MaintenanceResult>) {
  const timers = new FakeTimers();
  const { log, lines } = capturedLogger();
  const calls: Call[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const scheduler = new MaintenanceScheduler({
    ...schedule,
    log,
    timers,
    run: async (url, full, signal) => {
      const call = { url, full, signal };
      calls.push(call);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await Promise.resolve(); // let another run start, if the scheduler allowed one
        return await (run ?? (async (c: Call) => result(c.full)))(call);
      } finally {
        inFlight--;
      }
    },
  });
  return { scheduler, timers, lines, calls, maxInFlight: () => maxInFlight };
}

/** Fires the armed timer and waits for the run it started. */
async function tick(t: { timers: FakeTimers; scheduler: MaintenanceScheduler }): Promise<void> {
  t.timers.fire();
  await t.scheduler.idle();
}

describe('MaintenanceScheduler', () => {
  it('runs quick maintenance of every store it was told about, each interval, one store at a time', async () => {
    const t = setup({ quickEveryMs: HOUR, fullEveryMs: null });
    t.scheduler.start();
    expect(t.timers.pending.map((p) => p.at)).toEqual([HOUR]);
    await tick(t);
    expect(t.calls).toEqual([]); // no store used yet

    t.scheduler.remember('vfs:///srv/backups?backup=20261201T120000000Z-abcdef&volume=v');
    t.scheduler.remember('s3://bucket@us-east-1/prod');
    t.scheduler.remember('vfs:///srv/backups'); // the same store
    expect(t.scheduler.stores).toEqual(['vfs:///srv/backups', 's3://bucket@us-east-1/prod']);
    await tick(t);
    expect(t.calls.map((c) => [c.url, c.full])).toEqual([
      ['vfs:///srv/backups', false],
      ['s3://bucket@us-east-1/prod', false],
    ]);
    expect(t.maxInFlight()).toBe(1);
    expect(t.timers.pending.map((p) => p.at)).toEqual([3 * HOUR]);
    const done = t.lines.filter((l) => l.msg === 'maintenance done');
    expect(done).toEqual([
      expect.objectContaining({ store: 'vfs:///srv/backups', full: false, generation: 7, adds: 2, deletes: 1 }),
      expect.objectContaining({ store: 's3://bucket@us-east-1/prod', full: false }),
    ]);
  });

  it('runs a full maintenance at the first tick after a store is added, then once per full interval', async () => {
    const t = setup({ quickEveryMs: HOUR, fullEveryMs: 3 * HOUR });
    t.scheduler.start();
    t.scheduler.remember('vfs:///srv/a');
    for (let i = 0; i < 5; i++) await tick(t);
    expect(t.calls.map((c) => c.full)).toEqual([true, false, false, true, false]);
    expect(t.lines.filter((l) => l.msg === 'full maintenance done')).toEqual([
      expect.objectContaining({ store: 'vfs:///srv/a', blocksDeleted: 3, blocksMarked: 4 }),
      expect.objectContaining({ store: 'vfs:///srv/a', blocksDeleted: 3 }),
    ]);
  });

  it('with quick maintenance off, ticks at the full interval and runs only full ones', async () => {
    const t = setup({ quickEveryMs: null, fullEveryMs: 24 * HOUR });
    t.scheduler.start();
    t.scheduler.remember('vfs:///srv/a');
    expect(t.timers.pending.map((p) => p.at)).toEqual([24 * HOUR]);
    await tick(t);
    await tick(t);
    expect(t.calls.map((c) => c.full)).toEqual([true, true]);
  });

  it('never overlaps: the next tick is armed only when the running maintenance finished', async () => {
    let finish: (() => void) | undefined;
    const t = setup({ quickEveryMs: HOUR, fullEveryMs: null }, (c) => new Promise((resolve) => (finish = () => resolve(result(c.full)))));
    t.scheduler.start();
    t.scheduler.remember('vfs:///srv/a');
    t.timers.fire();
    await Promise.resolve();
    await Promise.resolve();
    expect(t.calls).toHaveLength(1);
    expect(t.timers.pending).toEqual([]); // a run that outlasts the interval delays the next one
    finish?.();
    await t.scheduler.idle();
    expect(t.timers.pending.map((p) => p.at)).toEqual([2 * HOUR]);
  });

  it('stop aborts a running maintenance, waits for it and schedules nothing more', async () => {
    let settled = false;
    const t = setup({ quickEveryMs: HOUR, fullEveryMs: null }, (c) =>
      new Promise<MaintenanceResult>((_resolve, reject) =>
        c.signal.addEventListener('abort', () => reject(c.signal.reason as Error), { once: true }),
      ).finally(() => {
        settled = true;
      }),
    );
    t.scheduler.start();
    t.scheduler.remember('vfs:///srv/a');
    t.scheduler.remember('vfs:///srv/b');
    t.timers.fire();
    await Promise.resolve();
    expect(t.calls).toHaveLength(1);
    await t.scheduler.stop();
    expect(settled).toBe(true);
    expect(t.calls[0]?.signal.aborted).toBe(true);
    expect(t.calls).toHaveLength(1); // the second store was not started
    expect(t.timers.pending).toEqual([]);
    expect(t.lines.at(-1)).toMatchObject({ msg: expect.stringContaining('maintenance stopped'), store: 'vfs:///srv/a' });
    await t.scheduler.stop(); // idempotent
  });

  it('logs a failure with its code and hint and keeps going; a format v1 store is said once at warn', async () => {
    const t = setup({ quickEveryMs: HOUR, fullEveryMs: null }, async (c) => {
      if (c.url === 'vfs:///srv/old')
        throw new ConvoyError('CONVOY_FORMAT_UNSUPPORTED', 'vfs:///srv/old is a format v1 store', {
          hint: 'run `convoy-backup upgrade STORE`',
        });
      if (c.url === 's3://bucket@us-east-1/p')
        throw new ConvoyError('CONVOY_OBJECTSTORE_FAILED', 'cannot reach the store', { hint: 'check the endpoint' });
      return result(c.full);
    });
    t.scheduler.start();
    t.scheduler.remember('vfs:///srv/old');
    t.scheduler.remember('s3://bucket@us-east-1/p');
    t.scheduler.remember('vfs:///srv/ok');
    t.scheduler.remember('s3://AKIA:SECRET@bucket/p'); // refused by the URL parser: never maintained, never logged
    await tick(t);
    await tick(t);
    expect(t.calls.map((c) => c.url)).toEqual([
      'vfs:///srv/old',
      's3://bucket@us-east-1/p',
      'vfs:///srv/ok',
      'vfs:///srv/old',
      's3://bucket@us-east-1/p',
      'vfs:///srv/ok',
    ]);
    const v1 = t.lines.filter((l) => l.store === 'vfs:///srv/old' && l.code !== undefined);
    expect(v1.map((l) => l.level)).toEqual([40, 20]); // warn, then debug
    expect(v1[0]).toMatchObject({ code: 'CONVOY_FORMAT_UNSUPPORTED', hint: expect.stringContaining('upgrade') });
    expect(t.lines.filter((l) => l.code === 'CONVOY_OBJECTSTORE_FAILED')).toEqual([
      expect.objectContaining({ level: 40, hint: 'check the endpoint', msg: expect.stringContaining('tried again') }),
      expect.objectContaining({ level: 40 }),
    ]);
    expect(t.lines.filter((l) => l.msg === 'maintenance done')).toHaveLength(2);
    expect(JSON.stringify(t.lines)).not.toContain('SECRET');
    expect(t.timers.pending).toHaveLength(1);
  });

  it('does nothing when both intervals are off', async () => {
    const t = setup({ quickEveryMs: null, fullEveryMs: null });
    t.scheduler.start();
    t.scheduler.remember('vfs:///srv/a');
    expect(t.scheduler.enabled).toBe(false);
    expect(t.scheduler.stores).toEqual([]);
    expect(t.timers.pending).toEqual([]);
  });
});

describe('maintenance flags', () => {
  it('default to quick maintenance every hour and a full one once a day', async () => {
    expect(maintenanceSchedule(await parseArgs([]))).toEqual({ quickEveryMs: HOUR, fullEveryMs: 24 * HOUR });
  });

  it('take durations, and off or 0 to disable', async () => {
    expect(maintenanceSchedule(await parseArgs(['--maintenance-interval', '30m', '--full-maintenance-interval', '24h']))).toEqual({
      quickEveryMs: HOUR / 2,
      fullEveryMs: 24 * HOUR,
    });
    expect(maintenanceSchedule(await parseArgs(['--maintenance-interval', 'off', '--full-maintenance-interval', '7d']))).toEqual({
      quickEveryMs: null,
      fullEveryMs: 7 * 24 * HOUR,
    });
    expect(maintenanceSchedule(await parseArgs(['--maintenance-interval', '0', '--full-maintenance-interval', 'off']))).toEqual({
      quickEveryMs: null,
      fullEveryMs: null,
    });
  });

  it('come from the config file too; flags override it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-daemon-maint-'));
    try {
      const file = path.join(dir, 'convoy.json');
      await fs.writeFile(file, JSON.stringify({ maintenanceInterval: '2h', fullMaintenanceInterval: '24h' }));
      expect(maintenanceSchedule(await parseArgs(['--config', file]))).toEqual({ quickEveryMs: 2 * HOUR, fullEveryMs: 24 * HOUR });
      expect(maintenanceSchedule(await parseArgs(['--config', file, '--full-maintenance-interval', 'off']))).toEqual({
        quickEveryMs: 2 * HOUR,
        fullEveryMs: null,
      });
      await fs.writeFile(file, JSON.stringify({ maintenanceInterval: 3600 }));
      await expect(parseArgs(['--config', file])).rejects.toThrow(/"maintenanceInterval" must be a string/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it.each([['soon'], ['10s'], ['1']])('refuse %j', async (value) => {
    await expect(parseArgs(['--maintenance-interval', value])).rejects.toMatchObject({
      code: 'CONVOY_CONFIG_INVALID',
      hint: expect.stringContaining('--maintenance-interval'),
    });
  });
});
