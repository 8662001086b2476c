// Scheduled backups with an injected clock: on time (every and cron), durable across a restart
// (a missed run runs once at start), never two runs of one volume at once, failures recorded with
// their code, removal, and a damaged schedule file named.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConvoyError } from '@convoy/errors';
import type { Logger } from '../logger.js';
import { BackupScheduler, type RunResult } from './scheduler.js';
import type { SchedulePolicy } from './policy.js';
import { ScheduleStore } from './store.js';

/** Timers whose time moves only when the test says; due callbacks run in order. */
class ManualTimers {
  t: number;
  #armed: { fn: () => void; at: number }[] = [];
  constructor(start: string) {
    this.t = Date.parse(start);
  }
  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const h = { fn, at: this.t + ms };
    this.#armed.push(h);
    return h;
  };
  clearTimeout = (h: unknown): void => {
    this.#armed = this.#armed.filter((x) => x !== h);
  };
  /** Moves time to `iso`, running each callback that falls due on the way, then `wait` (default: a few turns of the loop). */
  async to(iso: string, wait: () => Promise<void> = settle): Promise<void> {
    const end = Date.parse(iso);
    for (;;) {
      const next = this.#armed.filter((h) => h.at <= end).sort((a, b) => a.at - b.at)[0];
      if (next === undefined) break;
      this.#armed = this.#armed.filter((h) => h !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
      await wait();
    }
    this.t = end;
    await wait();
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
};

let root: string;
let timers: ManualTimers;
const log = pino({ level: 'silent' }) as Logger;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-sched-'));
  timers = new ManualTimers('2026-12-02T02:30:00Z');
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function scheduler(run: (p: SchedulePolicy) => Promise<RunResult>): BackupScheduler {
  return new BackupScheduler({ store: new ScheduleStore(root), run: (p) => run(p), log, timers });
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe('scheduled backups', () => {
  it('run every interval and at cron times (UTC), each time recorded and saved', async () => {
    const runs: string[] = [];
    const s = scheduler(async (p) => {
      runs.push(`${p.volume}@${iso(timers.now())}`);
      return { url: `vfs:///bk?backup=${runs.length}&volume=${p.volume}`, removed: 0 };
    });
    await s.start();
    await s.set({ volume: 'db', dest: 'vfs:///bk', every: '1h' });
    await s.set({ volume: 'web', dest: 'vfs:///bk', cron: '0 3 * * *', keep: { daily: 7 } });
    expect(s.list().map((p) => [p.volume, iso(p.nextRun)])).toEqual([
      ['db', '2026-12-02T03:30:00.000Z'],
      ['web', '2026-12-02T03:00:00.000Z'],
    ]);
    await timers.to('2026-12-02T05:45:00Z', () => s.whenIdle());
    expect(runs).toEqual([
      'web@2026-12-02T03:00:00.000Z',
      'db@2026-12-02T03:30:00.000Z',
      'db@2026-12-02T04:30:00.000Z',
      'db@2026-12-02T05:30:00.000Z',
    ]);
    const db = s.list()[0];
    expect(db).toMatchObject({
      nextRun: Date.parse('2026-12-02T06:30:00Z'),
      lastRun: { at: '2026-12-02T05:30:00.000Z', outcome: 'ok', url: 'vfs:///bk?backup=4&volume=db' },
    });
    const saved = JSON.parse(await fs.readFile(path.join(root, 'schedules', 'web.json'), 'utf8')) as SchedulePolicy;
    expect(saved).toMatchObject({
      cron: '0 3 * * *',
      keep: { daily: 7 },
      nextRun: Date.parse('2026-12-03T03:00:00Z'),
      lastRun: { outcome: 'ok' },
    });
    await s.stop();
  });

  it('survive a restart; a run missed while the daemon was down runs once at start, then on time', async () => {
    const runs: string[] = [];
    const run = async (p: SchedulePolicy): Promise<RunResult> => {
      runs.push(`${p.volume}@${iso(timers.now())}`);
      return { url: 'vfs:///bk?backup=x&volume=db', removed: 0 };
    };
    const first = scheduler(run);
    await first.start();
    await first.set({ volume: 'db', dest: 'vfs:///bk', every: '1h' });
    await first.stop();
    await timers.to('2026-12-02T09:10:00Z'); // down for hours: five runs missed
    const second = scheduler(run);
    await second.start();
    await timers.to('2026-12-02T09:10:00Z', () => second.whenIdle());
    expect(runs).toEqual(['db@2026-12-02T09:10:00.000Z']);
    expect(iso(second.list()[0]?.nextRun ?? 0)).toBe('2026-12-02T09:30:00.000Z');
    await timers.to('2026-12-02T09:31:00Z', () => second.whenIdle());
    expect(runs).toEqual(['db@2026-12-02T09:10:00.000Z', 'db@2026-12-02T09:30:00.000Z']);
    await second.stop();
  });

  it('never runs one volume twice at once: a run longer than the interval delays the next, which skips the missed times', async () => {
    let release: () => void = () => undefined;
    let active = 0;
    let most = 0;
    const starts: string[] = [];
    const s = scheduler(async () => {
      active++;
      most = Math.max(most, active);
      starts.push(iso(timers.now()));
      await new Promise<void>((r) => (release = r));
      active--;
      return { url: 'vfs:///bk?backup=x&volume=db', removed: 0 };
    });
    await s.start();
    await s.set({ volume: 'db', dest: 'vfs:///bk', every: '1h' });
    await timers.to('2026-12-02T06:00:00Z'); // the 03:30 run is still going at 04:30 and 05:30
    expect(starts).toEqual(['2026-12-02T03:30:00.000Z']);
    expect(s.list()[0]?.running).toBe(true);
    release();
    await s.whenIdle();
    expect(iso(s.list()[0]?.nextRun ?? 0)).toBe('2026-12-02T06:30:00.000Z');
    await timers.to('2026-12-02T06:31:00Z');
    release();
    await s.whenIdle();
    expect(starts).toEqual(['2026-12-02T03:30:00.000Z', '2026-12-02T06:30:00.000Z']);
    expect(most).toBe(1);
    await s.stop();
  });

  it('a failed run is recorded with its code and the next one is armed; a removed schedule runs no more', async () => {
    let calls = 0;
    const s = scheduler(async () => {
      calls++;
      throw new ConvoyError('CONVOY_STORE_NOT_FOUND', 'cannot reach the store');
    });
    await s.start();
    await s.set({ volume: 'db', dest: 's3://bk/x', every: '30m' });
    await timers.to('2026-12-02T03:01:00Z', () => s.whenIdle());
    expect(s.list()[0]).toMatchObject({
      lastRun: { outcome: 'failed', error: { code: 'CONVOY_STORE_NOT_FOUND', message: 'cannot reach the store' } },
      nextRun: Date.parse('2026-12-02T03:30:00Z'),
    });
    await s.remove('db');
    await timers.to('2026-12-02T09:00:00Z', () => s.whenIdle());
    expect(calls).toBe(1);
    expect(await fs.readdir(path.join(root, 'schedules'))).toEqual([]);
    await expect(s.remove('db')).rejects.toMatchObject({ code: 'CONVOY_SCHEDULE_NOT_FOUND' });
    await s.stop();
  });

  it('refuses bad schedules, and a damaged schedule file stops the start naming it', async () => {
    const s = scheduler(async () => ({ url: '', removed: 0 }));
    await s.start();
    await expect(s.set({ volume: 'db', dest: 'vfs:///bk' })).rejects.toMatchObject({ code: 'CONVOY_INVALID_ARGUMENT' });
    await expect(s.set({ volume: 'db', dest: 'vfs:///bk', every: '1h', cron: '0 3 * * *' })).rejects.toMatchObject({
      code: 'CONVOY_INVALID_ARGUMENT',
    });
    await expect(s.set({ volume: 'db', dest: 'vfs:///bk', every: '10s' })).rejects.toMatchObject({
      hint: expect.stringMatching(/at least a minute/),
    });
    await expect(s.set({ volume: 'db', dest: 'vfs:///bk', cron: '61 * * * *' })).rejects.toThrow(/invalid --cron/);
    await expect(s.set({ volume: 'db', dest: 'vfs:///bk', every: '1h', keep: { daily: 0 } })).rejects.toThrow(/no retention policy/);
    await s.set({ volume: 'db', dest: 'vfs:///bk', every: '1h' });
    await s.stop();
    await fs.writeFile(path.join(root, 'schedules', 'db.json'), '{"version":1,"volume":"db"');
    await expect(scheduler(async () => ({ url: '', removed: 0 })).start()).rejects.toMatchObject({
      code: 'CONVOY_STATE_INVALID',
      message: expect.stringContaining(path.join(root, 'schedules', 'db.json')),
    });
  });
});
