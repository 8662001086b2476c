// Scheduled backups through the real daemon (in-process, vfs driver, an injected clock): a policy
// set over the control API runs when its time comes — snapshot, backup, retention, snapshot gone —
// and is still there, with its last run, after a restart.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '@convoy/objectstore';
import { listManifests } from '@convoy/blockstore';
import { parseArgs } from './args.js';
import { startDaemon, type RunningDaemon } from './daemon.js';
import { createLogger } from './logger.js';
import { unixCall, type CallReply } from '../test/helpers/unix-call.js';

let tmp: string;
let control: string;
let now = Date.parse('2026-12-02T02:30:00Z');
let armed: { fn: () => void; at: number }[] = [];
const timers = {
  now: () => now,
  setTimeout: (fn: () => void, ms: number) => {
    const h = { fn, at: now + ms };
    armed.push(h);
    return h;
  },
  clearTimeout: (h: unknown) => {
    armed = armed.filter((x) => x !== h);
  },
};
/** Moves the clock to `iso` and runs the callbacks due by then (maintenance's and the schedules'). */
function advanceTo(iso: string): void {
  now = Date.parse(iso);
  const due = armed.filter((h) => h.at <= now);
  armed = armed.filter((h) => h.at > now);
  for (const h of due) h.fn();
}

const call = (method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<CallReply> =>
  unixCall(control, method, url, body, headers);

async function start(): Promise<RunningDaemon> {
  const config = await parseArgs(['--root', path.join(tmp, 'root'), '--socket', control, '--plugin-socket', 'none', '--host-id', 'h1']);
  return startDaemon(config, createLogger('silent'), { timers });
}

let daemon: RunningDaemon;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-schedules-'));
  control = path.join(tmp, 'c.sock');
  daemon = await start();
});
afterAll(async () => {
  await daemon.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

const storeDir = (): string => path.join(tmp, 'bk');
const backups = async (): Promise<string[]> => {
  const s = await new FsObjectStore(storeDir()).open();
  try {
    return (await listManifests(s, 'db')).map((m) => m.snapshot ?? '');
  } finally {
    await s.close();
  }
};
/** Waits for the daemon's scheduled runs to finish (they run on its own I/O). */
const idle = async (): Promise<void> => {
  for (let i = 0; i < 600; i++) {
    const { schedules } = (await call('GET', '/v1/schedules')).json() as { schedules: { running?: boolean }[] };
    if (!schedules.some((s) => s.running === true)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('scheduled runs did not finish');
};

describe('scheduled backups in the daemon', () => {
  it('runs on time: snapshot, backup, retention; the snapshot is gone afterwards', async () => {
    expect((await call('POST', '/v1/volumes', { name: 'db' })).status).toBe(200);
    const { mountpoint } = (await call('POST', '/v1/volumes/db/mount', {})).json() as { mountpoint: string };
    await fs.writeFile(path.join(mountpoint, 'f'), 'v1');
    await fs.mkdir(storeDir());
    const set = await call('POST', '/v1/schedules', { volume: 'db', dest: `vfs://${storeDir()}`, every: '1h', keep: { last: 2 } });
    expect(set.status, JSON.stringify(set.json())).toBe(200);
    expect(set.json()).toMatchObject({ volume: 'db', every: '1h', nextRun: Date.parse('2026-12-02T03:30:00Z') });
    expect((await call('POST', '/v1/schedules', { volume: 'nope', dest: `vfs://${storeDir()}`, every: '1h' })).status).toBe(404);

    for (const [t, content] of [
      ['2026-12-02T03:30:00Z', 'v2'],
      ['2026-12-02T04:30:00Z', 'v3'],
      ['2026-12-02T05:30:00Z', 'v4'],
    ] as const) {
      advanceTo(t);
      await idle();
      await fs.writeFile(path.join(mountpoint, 'f'), content);
    }
    // three runs, retention keeps the last two; no scheduled snapshot stays behind
    expect(await backups()).toEqual(['sched-db-20261202T043000Z', 'sched-db-20261202T053000Z']);
    expect(((await call('GET', '/v1/snapshots')).json() as { snapshots: unknown[] }).snapshots).toEqual([]);
    const [listed] = ((await call('GET', '/v1/schedules')).json() as { schedules: Record<string, unknown>[] }).schedules;
    expect(listed).toMatchObject({
      volume: 'db',
      nextRun: Date.parse('2026-12-02T06:30:00Z'),
      lastRun: { at: '2026-12-02T05:30:00.000Z', outcome: 'ok', removed: 1 },
    });
  });

  it('survives a restart; a run missed meanwhile runs once at start; unschedule stops it', async () => {
    await daemon.close();
    armed = [];
    now = Date.parse('2026-12-02T09:00:00Z'); // down through three run times
    daemon = await start();
    advanceTo('2026-12-02T09:00:00Z');
    await idle();
    expect(await backups()).toEqual(['sched-db-20261202T053000Z', 'sched-db-20261202T090000Z']);
    const [listed] = ((await call('GET', '/v1/schedules')).json() as { schedules: Record<string, unknown>[] }).schedules;
    expect(listed).toMatchObject({
      nextRun: Date.parse('2026-12-02T09:30:00Z'),
      lastRun: { at: '2026-12-02T09:00:00.000Z', outcome: 'ok' },
    });
    expect((await call('DELETE', '/v1/schedules/db')).status).toBe(200);
    expect((await call('DELETE', '/v1/schedules/db')).json()).toMatchObject({ error: { code: 'CONVOY_SCHEDULE_NOT_FOUND' } });
    advanceTo('2026-12-02T12:00:00Z');
    await idle();
    expect(await backups()).toHaveLength(2);
  });
});
