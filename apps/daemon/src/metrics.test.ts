// --metrics-listen: /metrics after real backups, restores and plugin requests; /healthz; and the
// start/end log lines of each backup, restore and delete.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PluginClient } from '@convoy/plugin-protocol';
import type { VolumeManager } from '@convoy/volumes';
import { parseArgs } from './args.js';
import { startDaemon, type RunningDaemon } from './daemon.js';
import { DaemonMetrics } from './metrics.js';
import type { Logger } from './logger.js';
import { unixCall, type CallReply } from '../test/helpers/unix-call.js';

let tmp: string;
let daemon: RunningDaemon;
let control: string;
let plugin: string;
let logText = '';
const timers = { now: () => Date.now(), setTimeout: () => 0, clearTimeout: () => undefined };

type LogLine = { level: number; msg: string; [k: string]: unknown };
const logLines = (): LogLine[] =>
  logText
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LogLine);

const call = (method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<CallReply> =>
  unixCall(control, method, url, body, headers);

async function scrape(p = '/metrics'): Promise<{ status: number; type: string | null; text: string }> {
  const a = daemon.metricsAddress;
  if (a === undefined) throw new Error('no metrics address');
  const res = await fetch(`http://127.0.0.1:${a.port}${p}`);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

/** The value of one sample of the Prometheus text, by name and exact labels (in the order prom-client writes them). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}} `;
  const line = text.split('\n').find((l) => l.startsWith(want));
  return line === undefined ? undefined : Number(line.slice(want.length));
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-metrics-'));
  control = path.join(tmp, 'c.sock');
  plugin = path.join(tmp, 'p.sock');
  const config = await parseArgs([
    '--root',
    path.join(tmp, 'root'),
    '--plugin-socket',
    plugin,
    '--socket',
    control,
    '--host-id',
    'metrics-host',
    '--metrics-listen',
    '127.0.0.1:0',
  ]);
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  daemon = await startDaemon(config, pino<never>({ level: 'debug' }, stream) as Logger, { timers });
});
afterAll(async () => {
  await daemon.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('metrics and operation logs', () => {
  const store = (): string => `vfs://${tmp}/store`;
  let url = '';

  it('after a backup, /metrics has its bytes, duration, last success time, and the volumes', async () => {
    const before = Date.now() / 1000;
    expect((await call('POST', '/v1/volumes', { name: 'm1' })).status).toBe(200);
    const { mountpoint } = (await call('POST', '/v1/volumes/m1/mount', {})).json() as { mountpoint: string };
    await fs.writeFile(path.join(mountpoint, 'data.bin'), Buffer.alloc(300_000, 7));
    expect((await call('POST', '/v1/snapshots', { volume: 'm1', name: 'm1-s1' })).status).toBe(200);
    await fs.mkdir(path.join(tmp, 'store'));
    const created = await call('POST', '/v1/backups', { snapshot: 'm1-s1', dest: store() });
    expect(created.status).toBe(200);
    url = created.json().url as string;

    const m = await scrape();
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(m.text, 'convoy_backup_bytes_total', { volume: 'm1' })).toBeGreaterThanOrEqual(300_000);
    // what the driver's progress reports: vfs directory backups (since dirbackup) report no bytes sent
    expect(sample(m.text, 'convoy_backup_transferred_bytes_total', { volume: 'm1' })).toBeGreaterThanOrEqual(0);
    expect(sample(m.text, 'convoy_backup_duration_seconds_count', { volume: 'm1', outcome: 'ok' })).toBe(1);
    expect(sample(m.text, 'convoy_backup_duration_seconds_bucket', { le: '+Inf', volume: 'm1', outcome: 'ok' })).toBe(1);
    expect(sample(m.text, 'convoy_backup_last_success_timestamp_seconds', { volume: 'm1' })).toBeGreaterThanOrEqual(Math.floor(before));
    expect(m.text).not.toMatch(/^convoy_backup_failures_total\{volume="m1"\}/m);
    expect(sample(m.text, 'convoy_volumes', { driver: 'vfs', state: 'mounted' })).toBe(1);
    expect(sample(m.text, 'convoy_mounts', { holder: 'cli' })).toBe(1);
    expect(sample(m.text, 'convoy_driver_up', { driver: 'vfs' })).toBe(1);
    expect(m.text).toMatch(/^# HELP convoy_restore_bytes_total /m);
    expect(m.text).toMatch(/^convoy_daemon_process_cpu_seconds_total /m);
  });

  it('a failed backup counts as a failure of its volume', async () => {
    await fs.writeFile(path.join(tmp, 'a-file'), 'not a directory');
    const failed = await call('POST', '/v1/backups', { snapshot: 'm1-s1', dest: `vfs://${tmp}/a-file/store` });
    expect(failed.status).toBeGreaterThanOrEqual(400);
    const m = await scrape();
    expect(sample(m.text, 'convoy_backup_failures_total', { volume: 'm1' })).toBe(1);
    expect(sample(m.text, 'convoy_backup_duration_seconds_count', { volume: 'm1', outcome: 'failed' })).toBe(1);
    expect(sample(m.text, 'convoy_backup_duration_seconds_count', { volume: 'm1', outcome: 'ok' })).toBe(1);
  });

  it('a restore (a volume created from the backup) counts its bytes under the new volume', async () => {
    expect((await call('POST', '/v1/volumes', { name: 'm2', backup: url })).status).toBe(200);
    const m = await scrape();
    // vfs directory restores (since dirbackup) report no progress: the counter is there, at what was reported
    expect(sample(m.text, 'convoy_restore_bytes_total', { volume: 'm2' })).toBeGreaterThanOrEqual(0);
    expect(sample(m.text, 'convoy_restore_duration_seconds_count', { volume: 'm2', outcome: 'ok' })).toBe(1);
    expect(sample(m.text, 'convoy_volumes', { driver: 'vfs', state: 'unmounted' })).toBe(1);
  });

  it('each backup, restore and delete logs its start and its end with duration, bytes and outcome', async () => {
    expect((await call('DELETE', `/v1/backups?url=${encodeURIComponent(url)}`)).status).toBe(200);
    expect((await call('DELETE', '/v1/volumes/m2')).status).toBe(200);
    const lines = logLines().filter((l) => typeof l.op === 'string');
    const ends = (op: string): LogLine[] => lines.filter((l) => l.op === op && l.msg !== `${op} started`);
    for (const op of ['backup', 'restore', 'backup delete', 'volume delete']) {
      expect(
        lines.some((l) => l.msg === `${op} started` && l.level === 30),
        op,
      ).toBe(true);
      for (const end of ends(op))
        expect(end, op).toMatchObject({
          ms: expect.any(Number),
          bytes: expect.any(Number),
          bytesTransferred: expect.any(Number),
          outcome: expect.stringMatching(/^(ok|failed)$/),
        });
    }
    expect(ends('backup').map((l) => [l.msg, l.outcome, l.level])).toEqual([
      ['backup done', 'ok', 30],
      ['backup failed', 'failed', 40],
    ]);
    expect(ends('backup')[0]).toMatchObject({ volume: 'm1', snapshot: 'm1-s1', url: store(), bytes: expect.any(Number) });
    expect(ends('backup')[1]).toMatchObject({ code: expect.stringMatching(/^CONVOY_/), err: expect.stringContaining('a-file') });
    expect(ends('restore')[0]).toMatchObject({ msg: 'restore done', volume: 'm2', outcome: 'ok' });
    expect(ends('backup')[0]?.bytes as number).toBeGreaterThanOrEqual(300_000);
  });

  it("Docker's Get of an absent volume is counted but logs no warning; /healthz says ok", async () => {
    const c = new PluginClient(plugin);
    const answer = (await c.get('never-created')) as { Err?: string };
    c.close();
    expect(answer.Err).toMatch(/never-created/);
    const got = logLines().filter((l) => l.endpoint === '/VolumeDriver.Get');
    expect(got.map((l) => l.level)).toEqual([20]);
    expect(logLines().filter((l) => l.level >= 40 && l.msg === 'plugin request failed')).toEqual([]);
    const m = await scrape();
    expect(sample(m.text, 'convoy_plugin_requests_total', { endpoint: 'VolumeDriver.Get', outcome: 'err' })).toBe(1);
    expect(sample(m.text, 'convoy_plugin_errors_total', { endpoint: 'VolumeDriver.Get', code: 'CONVOY_VOLUME_NOT_FOUND' })).toBe(1);
    expect(sample(m.text, 'convoy_plugin_request_duration_seconds_count', { endpoint: 'VolumeDriver.Get' })).toBe(1);
    const h = await scrape('/healthz');
    expect([h.status, JSON.parse(h.text)]).toEqual([200, { status: 'ok', drivers: ['vfs'], unavailable: {} }]);
    expect((await scrape('/nope')).status).toBe(404);
  });
});

describe('metrics read from the manager at each scrape', () => {
  it('thin pool data and metadata usage, and a driver that could not start', async () => {
    const manager = {
      list: async () => ({ volumes: [{ name: 'a', driver: 'devicemapper', mountedBy: ['0f3c'] }], problems: [new Error('bad record')] }),
      info: async () => ({
        drivers: {
          devicemapper: {
            name: 'convoy-pool',
            dataUsedBytes: 4 << 20,
            dataTotalBytes: 100 << 20,
            metadataUsedBytes: 8192,
            metadataTotalBytes: 1 << 20,
          },
        },
        unavailable: { vfs: { message: 'cannot create /mnt/nfs' } },
      }),
    } as unknown as VolumeManager;
    const text = await new DaemonMetrics(manager).registry.metrics();
    expect(sample(text, 'convoy_thinpool_bytes', { pool: 'convoy-pool', kind: 'data', usage: 'used' })).toBe(4 << 20);
    expect(sample(text, 'convoy_thinpool_bytes', { pool: 'convoy-pool', kind: 'data', usage: 'total' })).toBe(100 << 20);
    expect(sample(text, 'convoy_thinpool_bytes', { pool: 'convoy-pool', kind: 'metadata', usage: 'used' })).toBe(8192);
    expect(sample(text, 'convoy_thinpool_bytes', { pool: 'convoy-pool', kind: 'metadata', usage: 'total' })).toBe(1 << 20);
    expect(sample(text, 'convoy_driver_up', { driver: 'devicemapper' })).toBe(1);
    expect(sample(text, 'convoy_driver_up', { driver: 'vfs' })).toBe(0);
    expect(sample(text, 'convoy_volumes', { driver: 'devicemapper', state: 'mounted' })).toBe(1);
    expect(sample(text, 'convoy_mounts', { holder: 'docker' })).toBe(1);
    expect(text).toContain('\nconvoy_volume_records_unreadable 1\n');
  });
});
