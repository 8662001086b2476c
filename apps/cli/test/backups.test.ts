// convoy backup create / delete / inspect / list against a fake daemon.
import { describe, expect, it } from 'vitest';
import { NDJSON } from '@convoy/control-api';
import type { FakeDaemon } from '@convoy/control-api/testing';
import { InterruptedError } from '../src/errors.js';
import { cli, lastJson, type ErrorJson, useFakeDaemon } from './helpers.js';
import { BACKUP_URL, progress, summary } from './fixtures.js';

let daemon: FakeDaemon;
let env: Record<string, string>;

useFakeDaemon((d) => {
  daemon = d;
  env = { CONVOY_SOCKET: d.socketPath };
});

const line = (): string => `${daemon.last().method} ${daemon.last().path}`;
const created = { type: 'result', result: { url: BACKUP_URL, id: '0001' } };

describe('convoy backup create', () => {
  it('sends snapshot, dest and labels with Accept NDJSON and prints the backup URL as the last line', async () => {
    daemon.on('POST', '/v1/backups', { ndjson: [progress('read', 40), progress('upload', 100), created] });
    const run = await cli(['backup', 'create', 'nightly-1', '--dest', 'vfs:///mnt/bk', '--label', 'env=prod', '--label', 'team=db'], {
      env,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(line()).toBe('POST /v1/backups');
    expect(daemon.last().headers.accept).toContain(NDJSON);
    expect(daemon.last().json).toEqual({ snapshot: 'nightly-1', dest: 'vfs:///mnt/bk', labels: { env: 'prod', team: 'db' } });
    expect(run.last).toBe(BACKUP_URL);
    expect(run.lines).toEqual([BACKUP_URL]);
    expect(run.stderr).toBe(''); // no terminal: no bar
  });

  it('on a terminal: a progress bar on stderr, the URL still last on stdout', async () => {
    daemon.on('POST', '/v1/backups', { ndjson: [progress('read', 40), progress('upload', 100), created] });
    const run = await cli(['backup', 'create', 'nightly-1', '--dest', 'vfs:///mnt/bk'], { env, isTTY: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/backup \[.*\] \d+% \|/);
    expect(run.last).toBe(BACKUP_URL);
  });

  it('--json: progress as JSON lines on stderr, {url,id} as the last stdout line', async () => {
    daemon.on('POST', '/v1/backups', { ndjson: [progress('read', 40), progress('upload', 100), created] });
    const run = await cli(['backup', 'create', 'nightly-1', '--dest', 'vfs:///mnt/bk', '--json'], { env });
    expect(lastJson(run)).toEqual({ url: BACKUP_URL, id: '0001' });
    const lines = run.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      type: 'progress',
      phase: 'read',
      bytesDone: 40,
      bytesTotal: 100,
      elapsedMs: expect.any(Number),
      bytesPerSecond: expect.any(Number),
    });
    expect(lines[1]).toMatchObject({ phase: 'upload', bytesDone: 100 });
  });

  it('an error in the stream: convoy: message + hint on stderr, exit 1', async () => {
    daemon.on('POST', '/v1/backups', {
      ndjson: [
        progress('read', 40),
        {
          type: 'error',
          error: {
            code: 'CONVOY_STORE_LOCKED',
            message: 'the store is locked by host b since 17:00',
            hint: 'wait, or see `convoy backup list`',
          },
        },
      ],
    });
    const run = await cli(['backup', 'create', 'nightly-1', '--dest', 'vfs:///mnt/bk'], { env });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('convoy: the store is locked by host b since 17:00\nhint: wait, or see `convoy backup list`\n');
    const json = await cli(['backup', 'create', 'nightly-1', '--dest', 'vfs:///mnt/bk', '--json'], { env });
    expect(json.code).toBe(1);
    expect(lastJson<ErrorJson>(json)).toEqual({
      error: {
        code: 'CONVOY_STORE_LOCKED',
        message: 'the store is locked by host b since 17:00',
        hint: 'wait, or see `convoy backup list`',
      },
    });
  });

  it('Ctrl-C closes the connection (the daemon stops the backup) and exits 130', async () => {
    daemon.on('POST', '/v1/backups', { ndjson: [progress('read', 10)], hold: true });
    const controller = new AbortController();
    const run = await cli(['backup', 'create', 'nightly-1', '--dest', 'vfs:///mnt/bk', '--json'], {
      env,
      signal: controller.signal,
      onStderr: (chunk) => {
        if (chunk.includes('"type":"progress"')) controller.abort(new InterruptedError('SIGINT', 130));
      },
    });
    expect(run.code).toBe(130);
    expect(lastJson<ErrorJson>(run).error).toMatchObject({ code: 'CONVOY_ABORTED', message: expect.stringContaining('SIGINT') });
    await expect.poll(() => daemon.last().disconnected).toBe(true);
  });

  it('a URL with a secret in it is printed redacted', async () => {
    daemon.on('POST', '/v1/backups', {
      ndjson: [{ type: 'result', result: { url: 's3://AK:SECRET@bk/db?backup=0001&volume=db', id: '0001' } }],
    });
    const run = await cli(['backup', 'create', 'nightly-1', '--dest', 's3://bk@us-east-1/db'], { env });
    expect(run.last).not.toContain('SECRET');
  });
});

describe('convoy backup delete / inspect / list', () => {
  const q = encodeURIComponent(BACKUP_URL);

  it('delete sends the URL as a query, prints a note and, with --json, the counts', async () => {
    daemon.on('DELETE', '/v1/backups', { json: { blocksDeleted: 3, blockMapsDeleted: 1, blocksKept: 7 } });
    const run = await cli(['backup', 'delete', BACKUP_URL], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(line()).toBe(`DELETE /v1/backups?url=${q}`);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('3 blocks removed, 7 kept');
    const json = await cli(['backup', 'delete', BACKUP_URL, '--json'], { env });
    expect(lastJson(json)).toEqual({ blocksDeleted: 3, blockMapsDeleted: 1, blocksKept: 7 });
    expect(json.stderr).toBe('');
  });

  it('inspect prints the backup and its manifest as JSON', async () => {
    const body = { ...summary('0001'), manifest: { version: 1, blocks: [[0, 2097152, 'ab']] } };
    daemon.on('GET', '/v1/backups/inspect', { json: body });
    const run = await cli(['backup', 'inspect', BACKUP_URL], { env });
    expect(line()).toBe(`GET /v1/backups/inspect?url=${q}`);
    expect(JSON.parse(run.stdout)).toEqual(body);
    expect(lastJson(await cli(['backup', 'inspect', BACKUP_URL, '--json'], { env }))).toEqual(body);
  });

  it('list sends dest and volume, prints a table or a JSON array', async () => {
    daemon.on('GET', '/v1/backups', { json: { backups: [summary('0001'), summary('0002', { parent: '0001', snapshot: null })] } });
    const run = await cli(['backup', 'list', 'vfs:///mnt/bk', '--volume', 'db'], { env });
    expect(line()).toBe(`GET /v1/backups?dest=${encodeURIComponent('vfs:///mnt/bk')}&volume=db`);
    expect(run.lines).toEqual([
      'VOLUME  ID    CREATED               SIZE      SNAPSHOT   PARENT  URL',
      'db      0001  2026-11-24 17:02:00Z  10.0 MiB  nightly-1  -       vfs:///mnt/bk?backup=0001&volume=db',
      'db      0002  2026-11-24 17:02:00Z  10.0 MiB  -          0001    vfs:///mnt/bk?backup=0002&volume=db',
    ]);
    const json = await cli(['backup', 'list', 's3://bk@us-east-1/db', '--json'], { env });
    expect(line()).toBe(`GET /v1/backups?dest=${encodeURIComponent('s3://bk@us-east-1/db')}`);
    expect(lastJson<unknown[]>(json)).toHaveLength(2);
    await cli(['backup', 'list', '--volume-name', 'web', 'vfs:///mnt/bk'], { env });
    expect(daemon.last().query.get('volume')).toBe('web');
    daemon.on('GET', '/v1/backups', { json: { backups: [] } });
    expect((await cli(['backup', 'list', 'vfs:///mnt/bk'], { env })).stdout).toBe('no backups\n');
  });
});

describe('convoy backup schedule / schedules / unschedule', () => {
  const policy = {
    volume: 'db',
    dest: 'vfs:///mnt/bk',
    every: '1h',
    keep: { daily: 7, within: '2d' },
    createdAt: '2026-12-02T02:30:00.000Z',
    nextRun: Date.parse('2026-12-02T03:30:00Z'),
  };

  it('schedule sends the policy (every or cron, the --keep-* rules) and prints when it runs next', async () => {
    daemon.on('POST', '/v1/schedules', { json: policy });
    const run = await cli(
      ['backup', 'schedule', 'db', '--dest', 'vfs:///mnt/bk', '--every', '1h', '--keep-daily', '7', '--keep-within', '2d'],
      { env },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(line()).toBe('POST /v1/schedules');
    expect(daemon.last().json).toEqual({ volume: 'db', dest: 'vfs:///mnt/bk', every: '1h', keep: { daily: 7, within: '2d' } });
    expect(run.stdout).toMatch(/^db: every 1h to vfs:\/\/\/mnt\/bk; next run /);
    for (const bad of [['--every', '1h', '--cron', '0 3 * * *'], []]) {
      const r = await cli(['backup', 'schedule', 'db', '--dest', 'vfs:///mnt/bk', ...bad, '--json'], { env });
      expect(r.code).toBe(2);
      expect(lastJson<ErrorJson>(r).error.message).toMatch(/exactly one of --every and --cron/);
    }
  });

  it('schedules lists them with the last run and its error; unschedule removes one', async () => {
    const failed = {
      ...policy,
      lastRun: { at: '2026-12-02T03:30:00.000Z', outcome: 'failed', error: { code: 'CONVOY_STORE_NOT_FOUND', message: 'no store' } },
    };
    daemon.on('GET', '/v1/schedules', { json: { schedules: [failed] } });
    const run = await cli(['backup', 'schedules'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^VOLUME\s+WHEN\s+DEST\s+NEXT RUN\s+LAST RUN\s+LAST ERROR/);
    expect(run.stdout).toContain('CONVOY_STORE_NOT_FOUND: no store');
    expect(lastJson(await cli(['backup', 'schedules', '--json'], { env }))).toEqual([failed]);
    daemon.on('DELETE', '/v1/schedules/db', { json: {} });
    const gone = await cli(['backup', 'unschedule', 'db'], { env });
    expect(gone.code, gone.stderr).toBe(0);
    expect(line()).toBe('DELETE /v1/schedules/db');
  });
});
