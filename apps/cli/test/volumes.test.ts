// convoy info, create, delete, mount, umount, list, inspect and snapshot * against a fake daemon:
// the requests they send and what they print.
import { describe, expect, it } from 'vitest';
import { NDJSON } from '@convoy/control-api';
import type { FakeDaemon } from '@convoy/control-api/testing';
import { cli, lastJson, useFakeDaemon } from './helpers.js';
import { progress, snap, vol } from './fixtures.js';

let daemon: FakeDaemon;
let env: Record<string, string>;

useFakeDaemon((d) => {
  daemon = d;
  env = { CONVOY_SOCKET: d.socketPath };
});

const line = (): string => `${daemon.last().method} ${daemon.last().path}`;

describe('convoy info', () => {
  const info = {
    version: '0.1.0',
    host: 'h1',
    root: '/var/lib/convoy',
    defaultDriver: 'vfs',
    drivers: { vfs: { path: '/mnt/shared' } },
    mounted: ['db'],
    general: { root: '/var/lib/convoy', drivers: ['vfs'], socket: '/var/run/convoy/convoy.sock', ignoreDockerDelete: false },
  };

  it("prints the daemon's facts, or one JSON object with --json", async () => {
    daemon.on('GET', '/v1/info', { json: info });
    const run = await cli(['info'], { env });
    expect(run.code).toBe(0);
    expect(line()).toBe('GET /v1/info');
    expect(run.stdout).toContain('host:           h1');
    expect(run.stdout).toContain('default driver: vfs');
    expect(run.stdout).toContain('driver vfs: {"path":"/mnt/shared"}');
    expect(run.stdout).toContain(
      'general:\n  root: /var/lib/convoy\n  drivers: ["vfs"]\n  socket: /var/run/convoy/convoy.sock\n  ignoreDockerDelete: false\n',
    );
    const json = await cli(['info', '--json'], { env });
    expect(lastJson(json)).toEqual(info);
    expect(daemon.last().headers['user-agent']).toMatch(/^convoy\/\d/);
  });

  it('--socket overrides CONVOY_SOCKET', async () => {
    daemon.on('GET', '/v1/info', { json: info });
    const run = await cli(['info', '--socket', daemon.socketPath], { env: { CONVOY_SOCKET: '/nonexistent/convoy.sock' } });
    expect(run.code, run.stderr).toBe(0);
  });
});

describe("Rancher Convoy's client globals", () => {
  it('-s names the socket, before or after the command', async () => {
    daemon.on('GET', '/v1/volumes', { json: { volumes: [] } });
    for (const argv of [
      ['-s', daemon.socketPath, 'list'],
      ['list', '-s', daemon.socketPath],
    ]) {
      const run = await cli(argv, { env: { CONVOY_SOCKET: '/nonexistent/convoy.sock' } });
      expect(run.code, run.stderr).toBe(0);
    }
  });

  it('--debug traces each request on stderr (no query: it may hold a backup URL) and shows the error code; stdout is unchanged', async () => {
    daemon.on('POST', '/v1/volumes', (r) => ({ json: vol((r.json as { name: string }).name) }));
    const run = await cli(['--debug', 'create', 'db'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('db\n');
    expect(run.stderr).toMatch(new RegExp(`^debug: POST /v1/volumes → 200 \\(\\d+ ms, ${daemon.socketPath}\\)$`, 'm'));
    daemon.on('GET', '/v1/backups/inspect', {
      status: 404,
      json: { error: { code: 'CONVOY_BACKUP_NOT_FOUND', message: 'no such backup' } },
    });
    const failed = await cli(['-d', 'backup', 'inspect', 'vfs:///bk?backup=b1&volume=db'], { env });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('debug: GET /v1/backups/inspect → 404 CONVOY_BACKUP_NOT_FOUND');
    expect(failed.stderr).not.toContain('vfs:///bk?backup');
    expect(failed.stderr).toMatch(/^debug: code CONVOY_BACKUP_NOT_FOUND$/m);
    // without it, none of that
    const quiet = await cli(['create', 'db'], { env });
    expect(quiet.stderr).not.toContain('debug:');
  });

  it('--verbose prints the whole result as indented JSON (as Convoy printed the volume), --json still wins', async () => {
    daemon.on('POST', '/v1/volumes', (r) => ({ json: vol((r.json as { name: string }).name) }));
    const run = await cli(['create', 'db', '--verbose'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(vol('db'));
    expect(run.stdout).toContain('\n  "name": "db"');
    const json = await cli(['--verbose', 'create', 'db', '--json'], { env });
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    expect(lastJson(json)).toEqual(vol('db'));
  });
});

describe('convoy create', () => {
  it('without a name, creates volume-<8 hex digits> (as Convoy) and prints the name', async () => {
    daemon.on('POST', '/v1/volumes', (r) => ({ json: vol((r.json as { name: string }).name) }));
    const run = await cli(['create'], { env });
    expect(run.code, run.stderr).toBe(0);
    const name = (daemon.last().json as { name: string }).name;
    expect(name).toMatch(/^volume-[0-9a-f]{8}$/);
    expect(run.stdout).toBe(`${name}\n`);
  });

  it('sends name, driver, size and options; prints the name, or the volume with --json', async () => {
    daemon.on('POST', '/v1/volumes', (r) => ({
      json: vol((r.json as { name: string }).name, { driver: 'devicemapper', size: 20 * 2 ** 30 }),
    }));
    const run = await cli(['create', 'db', '--driver', 'devicemapper', '--size', '20G', '--opt', 'fs=xfs', '--opt', 'x=a=b'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(line()).toBe('POST /v1/volumes');
    expect(daemon.last().json).toEqual({ name: 'db', driver: 'devicemapper', size: '20G', options: { fs: 'xfs', x: 'a=b' } });
    expect(daemon.last().headers.accept).toBe('application/json');
    expect(run.stdout).toBe('db\n');
    const json = await cli(['create', 'db2', '--json'], { env });
    expect(daemon.last().json).toEqual({ name: 'db2' });
    expect(lastJson(json)).toMatchObject({ name: 'db2', uuid: 'db2-0b5c6a53-3f4e-4a47', driver: 'devicemapper' });
  });

  it('--backup restores with streamed progress: JSON lines on stderr with --json, the volume last on stdout', async () => {
    daemon.on('POST', '/v1/volumes', {
      ndjson: [progress('restore', 50), progress('restore', 100), { type: 'result', result: vol('db2') }],
    });
    const url = 'vfs:///mnt/bk?backup=0001&volume=db';
    const run = await cli(['create', 'db2', '--backup', url, '--json'], { env });
    expect(run.code, run.stdout).toBe(0);
    expect(daemon.last().headers.accept).toContain(NDJSON);
    expect(daemon.last().json).toEqual({ name: 'db2', backup: url });
    const lines = run.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; bytesDone: number });
    expect(lines.map((l) => [l.type, l.bytesDone])).toEqual([
      ['progress', 50],
      ['progress', 100],
    ]);
    expect(lastJson(run)).toMatchObject({ name: 'db2' });
  });

  it('--backup on a terminal draws a progress bar on stderr and prints only the name on stdout', async () => {
    daemon.on('POST', '/v1/volumes', {
      ndjson: [progress('restore', 50), progress('restore', 100), { type: 'result', result: vol('db2') }],
    });
    const run = await cli(['create', 'db2', '--backup', 'vfs:///mnt/bk?backup=0001&volume=db'], { env, isTTY: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/restore \[.*\] 100% \| 100 B \/ 100 B/);
    expect(run.stdout).toBe('db2\n');
  });
});

describe('convoy delete', () => {
  it.each([
    [['delete', 'db'], 'DELETE /v1/volumes/db'],
    [['delete', 'db', '--force'], 'DELETE /v1/volumes/db?force=1'],
    [['delete', '-r', 'db'], 'DELETE /v1/volumes/db?reference=1'],
    [['delete', 'db', '--reference', '--force'], 'DELETE /v1/volumes/db?force=1&reference=1'],
  ])('%j sends %s', async (args, expected) => {
    daemon.on('DELETE', '/v1/volumes/:name', { json: {} });
    const run = await cli(args, { env });
    expect(run.code, run.stderr).toBe(0);
    expect(line()).toBe(expected);
    expect(run.stdout).toBe('');
  });

  it('--json prints what happened', async () => {
    daemon.on('DELETE', '/v1/volumes/:name', { json: {} });
    expect(lastJson(await cli(['delete', '-r', 'db', '--json'], { env }))).toEqual({ volume: 'db', deleted: true, dataKept: true });
  });
  const bIsMounted = (r: { params: Record<string, string> }) =>
    r.params.name === 'b'
      ? {
          status: 409,
          error: { code: 'CONVOY_VOLUME_IN_USE', message: 'volume b is mounted on host h2', hint: 'unmount it there first' },
        }
      : { json: {} };

  it('deletes several names in order (as Convoy); one that fails does not stop the others, and the run fails with its error', async () => {
    daemon.on('DELETE', '/v1/volumes/:name', bIsMounted);
    const all = await cli(['delete', 'a', 'c', '--json'], { env });
    expect(all.code, all.stderr).toBe(0);
    expect(lastJson(all)).toEqual([
      { volume: 'a', deleted: true, dataKept: false },
      { volume: 'c', deleted: true, dataKept: false },
    ]);
    daemon.reset();
    daemon.on('DELETE', '/v1/volumes/:name', bIsMounted);
    const run = await cli(['delete', 'a', 'b', 'c'], { env });
    expect(run.code).toBe(1);
    expect(daemon.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      'DELETE /v1/volumes/a',
      'DELETE /v1/volumes/b',
      'DELETE /v1/volumes/c',
    ]);
    expect(run.stderr).toContain('deleted a\nnot deleted: b\ndeleted c\n');
    expect(run.stderr).toContain('convoy: volume b is mounted on host h2');
  });

  it('checks every name before deleting any', async () => {
    daemon.on('DELETE', '/v1/volumes/:name', { json: {} });
    const run = await cli(['delete', 'a', '../etc', '--json'], { env });
    expect(run.code).toBe(2);
    expect(daemon.requests).toEqual([]);
  });
});

describe('convoy mount / umount', () => {
  it('mount sends the mountpoint and prints where the volume is', async () => {
    daemon.on('POST', '/v1/volumes/:name/mount', (r) => ({
      json: { mountpoint: (r.json as { mountpoint?: string }).mountpoint ?? `/var/lib/convoy/mounts/${r.params.name}` },
    }));
    const run = await cli(['mount', 'db'], { env });
    expect(line()).toBe('POST /v1/volumes/db/mount');
    expect(daemon.last().json).toEqual({});
    expect(run.stdout).toBe('/var/lib/convoy/mounts/db\n');
    const at = await cli(['mount', 'db', '--mountpoint', '/srv/db', '--json'], { env });
    expect(daemon.last().json).toEqual({ mountpoint: '/srv/db' });
    expect(lastJson(at)).toEqual({ volume: 'db', mountpoint: '/srv/db' });
  });

  it('umount sends no body and prints nothing', async () => {
    daemon.on('POST', '/v1/volumes/:name/umount', { json: {} });
    const run = await cli(['umount', 'db'], { env });
    expect(run.code).toBe(0);
    expect(line()).toBe('POST /v1/volumes/db/umount');
    expect(daemon.last().body).toBe('');
    expect(run.stdout).toBe('');
  });
});

describe('convoy list / inspect', () => {
  const volumes = [
    vol('web', { mountpoint: '/m/web', mountedBy: ['c1', 'c2'] }),
    vol('db', { driver: 'devicemapper', size: 10 * 2 ** 30 }),
  ];

  it('list prints a table sorted by name', async () => {
    daemon.on('GET', '/v1/volumes', { json: { volumes } });
    const run = await cli(['list'], { env });
    expect(line()).toBe('GET /v1/volumes');
    expect(run.lines).toEqual([
      'NAME  DRIVER        SIZE      MOUNTPOINT  MOUNTED BY  CREATED               UUID',
      'db    devicemapper  10.0 GiB  -           -           2026-11-24 17:00:00Z  db-0b5c6a53-3f4e-4a47',
      'web   vfs           -         /m/web      c1,c2       2026-11-24 17:00:00Z  web-0b5c6a53-3f4e-4a47',
    ]);
  });

  it('list --driver filters; --json prints an array; no volumes says so', async () => {
    daemon.on('GET', '/v1/volumes', { json: { volumes } });
    const run = await cli(['list', '--driver', 'vfs', '--json'], { env });
    expect(lastJson<{ name: string }[]>(run).map((v) => v.name)).toEqual(['web']);
    expect((await cli(['list', '--driver', 'nfs'], { env })).stdout).toBe('no nfs volumes\n');
    daemon.on('GET', '/v1/volumes', { json: { volumes: [] } });
    expect((await cli(['list'], { env })).stdout).toBe('no volumes\n');
    expect(lastJson(await cli(['list', '--json'], { env }))).toEqual([]);
  });

  it('list shows the volumes it could read, then each unreadable record with its hint on stderr, and exits 1', async () => {
    const problem = {
      code: 'CONVOY_RECORD_CORRUPT',
      message: 'record of volume bad /vfs/meta/volumes/bad.json is corrupt: not valid JSON',
      hint: 'repair the file',
    };
    daemon.on('GET', '/v1/volumes', { json: { volumes, problems: [problem] } });
    const run = await cli(['list'], { env });
    expect(run.code).toBe(1);
    expect(run.lines).toHaveLength(3);
    expect(run.stderr).toBe(`convoy: ${problem.message}\nhint: repair the file\n`);
    const json = await cli(['list', '--json'], { env });
    expect(json.code).toBe(1);
    expect(lastJson<unknown[]>(json)).toHaveLength(2);
    expect(json.stderr).toContain(problem.message);
    daemon.on('GET', '/v1/snapshots', { json: { snapshots: [snap('nightly-1')], problems: [problem] } });
    const snaps = await cli(['snapshot', 'list'], { env });
    expect(snaps.code).toBe(1);
    expect(snaps.lines).toHaveLength(2);
    expect(snaps.stderr).toContain(problem.message);
  });

  it('list marks a volume that is not finished as creating', async () => {
    daemon.on('GET', '/v1/volumes', { json: { volumes: [vol('half', { state: 'creating' })] } });
    const run = await cli(['list'], { env });
    expect(run.lines[1]).toMatch(/^half \(creating\) +vfs /);
  });

  it('inspect always prints JSON: indented, or on one line with --json', async () => {
    daemon.on('GET', '/v1/volumes/:name', (r) => ({ json: vol(r.params.name ?? '') }));
    const run = await cli(['inspect', 'db'], { env });
    expect(line()).toBe('GET /v1/volumes/db');
    expect(run.lines.length).toBeGreaterThan(3);
    expect(JSON.parse(run.stdout)).toEqual(vol('db'));
    const json = await cli(['inspect', '0b5c6a', '--json'], { env });
    expect(line()).toBe('GET /v1/volumes/0b5c6a');
    expect(json.lines).toHaveLength(1);
    expect(lastJson(json)).toEqual(vol('0b5c6a'));
  });
});

describe('convoy snapshot', () => {
  it('create sends volume and name; prints the name, or the snapshot with --json', async () => {
    daemon.on('POST', '/v1/snapshots', (r) => ({ json: snap((r.json as { name?: string }).name ?? 'db-auto-1') }));
    const run = await cli(['snapshot', 'create', 'db', '--name', 'nightly-1'], { env });
    expect(line()).toBe('POST /v1/snapshots');
    expect(daemon.last().json).toEqual({ volume: 'db', name: 'nightly-1' });
    expect(run.stdout).toBe('nightly-1\n');
    const json = await cli(['snapshot', 'create', 'db', '--json'], { env });
    expect(daemon.last().json).toEqual({ volume: 'db' });
    expect(lastJson(json)).toMatchObject({ name: 'db-auto-1', volume: 'db' });
  });

  it('restore rolls the volume back: POST /v1/snapshots/NAME/restore, prints the volume; create --snapshot makes a copy', async () => {
    daemon.on('POST', '/v1/snapshots/nightly-1/restore', { json: snap('nightly-1') });
    const run = await cli(['snapshot', 'restore', 'nightly-1'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(line()).toBe('POST /v1/snapshots/nightly-1/restore');
    expect(run.stdout).toBe('db\n');
    const json = await cli(['snapshot', 'restore', 'nightly-1', '--json'], { env });
    expect(lastJson(json)).toMatchObject({ name: 'nightly-1', volume: 'db', restored: true });
    daemon.on('POST', '/v1/volumes', (r) => ({ json: vol((r.json as { name: string }).name) }));
    const copy = await cli(['create', 'db-copy', '--snapshot', 'nightly-1'], { env });
    expect(copy.code, copy.stderr).toBe(0);
    expect(daemon.last().json).toEqual({ name: 'db-copy', snapshot: 'nightly-1' });
    const both = await cli(['create', 'x', '--snapshot', 's', '--backup', 'vfs:///b?backup=1&volume=v'], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/mutually exclusive/);
  });

  it('delete, inspect', async () => {
    daemon.on('DELETE', '/v1/snapshots/:name', { json: {} }).on('GET', '/v1/snapshots/:name', (r) => ({ json: snap(r.params.name ?? '') }));
    const del = await cli(['snapshot', 'delete', 'nightly-1'], { env });
    expect(del.code).toBe(0);
    expect(line()).toBe('DELETE /v1/snapshots/nightly-1');
    const ins = await cli(['snapshot', 'inspect', 'nightly-1'], { env });
    expect(line()).toBe('GET /v1/snapshots/nightly-1');
    expect(JSON.parse(ins.stdout)).toEqual(snap('nightly-1'));
    expect(lastJson(await cli(['snapshot', 'inspect', 'nightly-1', '--json'], { env }))).toEqual(snap('nightly-1'));
  });

  it('list, of one volume or all, as a table or JSON', async () => {
    daemon.on('GET', '/v1/snapshots', (r) => ({
      json: { snapshots: r.query.get('volume') === 'empty' ? [] : [snap('nightly-1'), snap('nightly-2')] },
    }));
    const run = await cli(['snapshot', 'list', 'db'], { env });
    expect(line()).toBe('GET /v1/snapshots?volume=db');
    expect(run.lines).toEqual([
      'NAME       VOLUME  DRIVER  SIZE     CREATED               UUID',
      'nightly-1  db      vfs     2.0 KiB  2026-11-24 17:01:00Z  nightly-1-uuid',
      'nightly-2  db      vfs     2.0 KiB  2026-11-24 17:01:00Z  nightly-2-uuid',
    ]);
    const all = await cli(['snapshot', 'list', '--json'], { env });
    expect(line()).toBe('GET /v1/snapshots');
    expect(lastJson<unknown[]>(all)).toHaveLength(2);
    expect((await cli(['snapshot', 'list', 'empty'], { env })).stdout).toBe('no snapshots of volume empty\n');
  });
});
