import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PluginClient } from '@convoy/plugin-protocol';
import { parseArgs } from './args.js';
import { DEFAULTS } from './config.js';
import { startDaemon, type RunningDaemon } from './daemon.js';
import { createLogger } from './logger.js';
import { unixCall, type CallReply } from '../test/helpers/unix-call.js';

let tmp: string;
let daemon: RunningDaemon;
// The maintenance scheduler's timer: armed callbacks wait here until a test fires them.
let armed: (() => void)[] = [];
const timers = {
  now: () => Date.now(),
  setTimeout: (fn: () => void) => {
    armed.push(fn);
    return fn;
  },
  clearTimeout: (handle: unknown) => {
    armed = armed.filter((f) => f !== handle);
  },
};
let control: string;
let plugin: string;

const call = (method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<CallReply> =>
  unixCall(control, method, url, body, headers);

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-daemon-'));
  control = path.join(tmp, 'control.sock');
  plugin = path.join(tmp, 'plugin.sock');
  const config = await parseArgs([
    '--root',
    path.join(tmp, 'root'),
    '--plugin-socket',
    plugin,
    '--socket',
    control,
    '--host-id',
    'test-host',
    '--log-level',
    'silent',
  ]);
  daemon = await startDaemon(config, createLogger('silent'), { timers });
});
afterAll(async () => {
  await daemon.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('convoy-daemon', () => {
  it('serves both sockets with mode 0660 and removes them on close', async () => {
    expect((await fs.stat(control)).mode & 0o777).toBe(0o660);
    expect((await fs.stat(plugin)).mode & 0o777).toBe(0o660);
  });

  it('control API: volume life cycle, snapshot, streamed backup, restore from the URL', async () => {
    expect((await call('POST', '/v1/volumes', { name: 'api1' })).status).toBe(200);
    const m = (await call('POST', '/v1/volumes/api1/mount', {})).json() as { mountpoint: string };
    await fs.writeFile(path.join(m.mountpoint, 'hello.txt'), 'from the API');
    expect(((await call('GET', '/v1/volumes/api1')).json() as { mountedBy: string[] }).mountedBy).toEqual(['cli']);
    expect((await call('POST', '/v1/snapshots', { volume: 'api1', name: 'api1-s1' })).status).toBe(200);
    const streamed = await call(
      'POST',
      '/v1/backups',
      { snapshot: 'api1-s1', dest: `vfs://${tmp}/bk` },
      { accept: 'application/x-ndjson' },
    );
    const lines = streamed.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; result?: { url: string } });
    expect(lines.at(0)?.type).toBe('progress');
    expect(lines.at(-1)?.type).toBe('result');
    const url = lines.at(-1)?.result?.url as string;
    expect(url).toContain('volume=api1');
    const list = (await call('GET', `/v1/backups?dest=${encodeURIComponent(`vfs://${tmp}/bk`)}`)).json() as { backups: { url: string }[] };
    expect(list.backups.map((b) => b.url)).toEqual([url]);
    // the store is maintained from now on: the next scheduled run merges the backup into its index
    expect(daemon.maintenance.stores).toEqual([`vfs://${tmp}/bk`]);
    expect(armed).toHaveLength(1);
    armed.shift()?.();
    await daemon.maintenance.idle();
    expect(await fs.readdir(path.join(tmp, 'bk', 'refs', 'index'))).toEqual(['000000000001.json']);
    expect(armed).toHaveLength(1);
    expect((await call('POST', '/v1/volumes', { name: 'api2', backup: url })).status).toBe(200);
    const m2 = (await call('POST', '/v1/volumes/api2/mount', {})).json() as { mountpoint: string };
    expect(await fs.readFile(path.join(m2.mountpoint, 'hello.txt'), 'utf8')).toBe('from the API');
    // mounted volumes are not deleted by accident
    const busy = await call('DELETE', '/v1/volumes/api1');
    expect(busy.status).toBe(409);
    expect((busy.json() as { error: { code: string; hint: string } }).error).toMatchObject({
      code: 'CONVOY_VOLUME_IN_USE',
      hint: 'convoy umount api1',
    });
    await call('POST', '/v1/volumes/api1/umount');
    expect((await call('DELETE', '/v1/volumes/api1')).status).toBe(200);
    expect((await call('GET', '/v1/volumes/api1')).status).toBe(404);
  });

  it('control API errors: codes, hints and statuses; it keeps serving', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/v1/volumes', '{not json', 400, 'CONVOY_INVALID_ARGUMENT'],
      ['POST', '/v1/volumes', { name: '../etc' }, 400, 'CONVOY_VOLUME_NAME_INVALID'],
      ['POST', '/v1/volumes', { name: 'x'.repeat(300) }, 400, 'CONVOY_VOLUME_NAME_INVALID'],
      ['POST', '/v1/volumes', { name: 'a\u0000b' }, 400, 'CONVOY_VOLUME_NAME_INVALID'],
      ['POST', '/v1/volumes', { name: 42 }, 400, 'CONVOY_INVALID_ARGUMENT'],
      ['POST', '/v1/volumes', { name: 'typo1', sise: '1G' }, 400, 'CONVOY_INVALID_ARGUMENT'],
      ['POST', '/v1/volumes', [], 400, 'CONVOY_INVALID_ARGUMENT'],
      ['POST', '/v1/snapshots', {}, 400, 'CONVOY_INVALID_ARGUMENT'],
      ['GET', '/v1/volumes/nope', undefined, 404, 'CONVOY_VOLUME_NOT_FOUND'],
      ['POST', '/v1/backups', { snapshot: 'nope', dest: 'vfs:///tmp/x' }, 404, 'CONVOY_SNAPSHOT_NOT_FOUND'],
      ['GET', '/v1/backups?dest=ftp://x', undefined, 400, 'CONVOY_STORE_URL_INVALID'],
      ['GET', '/v2/what', undefined, 404, 'CONVOY_UNKNOWN_ROUTE'],
      ['POST', '/v1/volumes', `{"name":"${'a'.repeat(2 * 1024 * 1024)}"}`, 413, 'CONVOY_REQUEST_TOO_LARGE'],
    ];
    for (let round = 0; round < 5; round++) {
      for (const [method, url, body, status, code] of cases) {
        const r = await call(method, url, body);
        expect(r.status, `${method} ${url}`).toBe(status);
        expect((r.json() as { error: { code: string; message: string } }).error.code).toBe(code);
      }
    }
    expect((await call('POST', '/v1/volumes', { name: 'after-errors' })).status).toBe(200);
    // the schema's complaint names the field
    expect((await call('POST', '/v1/volumes', { name: 'typo1', sise: '1G' })).json()).toMatchObject({
      error: { message: 'unknown field "sise"' },
    });
    expect((await call('POST', '/v1/snapshots', {})).json()).toMatchObject({ error: { message: '"volume" is required' } });
    expect((await call('POST', '/v1/volumes', { name: 7 })).json()).toMatchObject({
      error: { message: expect.stringMatching(/^"name": .*string/) },
    });
  });

  it('a malformed request path is a 400 answer with a hint, never a crash; the next request is served', async () => {
    for (const target of ['/v1/volumes/%', '/v1/volumes/%E0%A4%A', '//', '/v1/snapshots/%ZZ/x']) {
      const r = await call('GET', target);
      expect(r.status, target).toBe(target === '//' ? 404 : 400);
      const error = (r.json() as { error: { code: string; message: string; hint?: string } }).error;
      if (target === '//') expect(error.code).toBe('CONVOY_UNKNOWN_ROUTE');
      else
        expect(error).toMatchObject({
          code: 'CONVOY_INVALID_REQUEST',
          message: expect.stringContaining('percent-encoding'),
          hint: expect.stringContaining('encodeURIComponent'),
        });
      expect((await call('GET', '/v1/info')).status).toBe(200);
    }
  });

  it('a request node:http cannot parse, or a CONNECT, is a JSON error with a CONVOY_* code on either socket, never a bare status', async () => {
    const raw = (socketPath: string, request: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const socket = net.connect(socketPath, () => socket.write(request));
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('end', () => resolve({ status: Number(text.split(' ')[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
        socket.on('error', reject);
      });
    const cases: [string, number, string][] = [
      ['GET /v1/volumes/a b HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'CONVOY_INVALID_REQUEST'],
      ['G\u0000T /v1/info HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'CONVOY_INVALID_REQUEST'],
      [`GET /v1/${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'CONVOY_REQUEST_TOO_LARGE'],
      ['CONNECT /v1/info HTTP/1.1\r\nHost: x\r\n\r\n', 405, 'CONVOY_INVALID_REQUEST'],
    ];
    for (const [request, status, code] of cases) {
      const r = await raw(control, request);
      expect(r.status, request.slice(0, 40)).toBe(status);
      expect(JSON.parse(r.body)).toEqual({
        error: { code, message: expect.any(String), hint: expect.stringContaining('docs/control-api.md') },
      });
      const p = await raw(plugin, request);
      expect(p.status).toBe(status);
      expect(JSON.parse(p.body)).toEqual({ Err: expect.any(String) });
    }
    expect((await call('GET', '/v1/info')).status).toBe(200);
  });

  it('a body the route does not read (or a 10 MB one) is read before the answer, so the client gets it instead of a broken pipe', async () => {
    const send = (target: string, body: Buffer): Promise<{ status: number; body: string; error?: string }> =>
      new Promise((resolve) => {
        const socket = net.connect(control, () => {
          socket.write(`POST ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`);
          socket.write(body);
        });
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('close', () => resolve({ status: Number(text.split(' ')[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
        socket.on('error', (err) => resolve({ status: 0, body: text, error: err.message }));
      });
    for (const [target, size, status] of [
      ['/v1/info', 1_000_000, 404],
      ['/v1/nothing', 700_000, 404],
      ['/v1/info', 4 * 1024 * 1024, 413],
      ['/v1/volumes', 10 * 1024 * 1024, 413],
    ] as const) {
      const r = await send(target, Buffer.alloc(size, 0x5b));
      expect(r, `${target} with ${size} bytes`).toMatchObject({ status });
      expect(JSON.parse(r.body)).toEqual({ error: expect.objectContaining({ code: expect.stringMatching(/^CONVOY_/) }) });
    }
    expect((await call('GET', '/v1/info')).status).toBe(200);
  });

  it('a control request whose body never finishes is answered 408 with a CONVOY code instead of holding the connection forever', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-daemon-timeout-'));
    const sock = path.join(dir, 'control.sock');
    const config = await parseArgs([
      '--root',
      path.join(dir, 'root'),
      '--plugin-socket',
      path.join(dir, 'plugin.sock'),
      '--socket',
      sock,
      '--host-id',
      'test-host',
      '--log-level',
      'silent',
    ]);
    const d = await startDaemon(config, createLogger('silent'), { timers, controlRequestTimeoutMs: 300 });
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(sock, () => socket.write('POST /v1/volumes HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"name":'));
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(reply).toMatch(/^HTTP\/1\.1 408 /);
      expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'CONVOY_REQUEST_TIMEOUT' } });
    } finally {
      await d.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('a corrupt volume record: list answers the others and names the file; Docker List leaves it out', async () => {
    for (const name of ['rec-good', 'rec-bad']) expect((await call('POST', '/v1/volumes', { name })).status).toBe(200);
    const file = path.join(tmp, 'root', 'drivers', 'vfs', 'meta', 'volumes', 'rec-bad.json');
    const saved = await fs.readFile(file);
    await fs.writeFile(file, '{"name": "rec-bad", "uuid": ');
    try {
      const list = (await call('GET', '/v1/volumes')).json() as {
        volumes: { name: string }[];
        problems: { code: string; message: string; hint: string }[];
      };
      expect(list.volumes.map((v) => v.name)).toContain('rec-good');
      expect(list.volumes.map((v) => v.name)).not.toContain('rec-bad');
      expect(list.problems).toEqual([
        { code: 'CONVOY_RECORD_CORRUPT', message: expect.stringContaining(file), hint: expect.stringContaining('repair the file') },
      ]);
      const one = await call('GET', '/v1/volumes/rec-bad');
      expect(one.status).toBe(500);
      expect((one.json() as { error: { message: string } }).error.message).toContain(file);
      const pc = new PluginClient(plugin);
      const docker = (await pc.list()) as { Volumes: { Name: string }[] };
      pc.close();
      expect(docker.Volumes.map((v) => v.Name)).toContain('rec-good');
      expect(docker.Volumes.map((v) => v.Name)).not.toContain('rec-bad');
    } finally {
      await fs.writeFile(file, saved);
    }
  });

  it('a corrupt mount state: the daemon does not start, and says which file and what to do', async () => {
    const root = path.join(tmp, 'root-corrupt');
    await fs.mkdir(path.join(root, 'manager', 'state'), { recursive: true });
    const file = path.join(root, 'manager', 'state', 'mounts.json');
    await fs.writeFile(file, '{"v": ["c1"');
    const config = await parseArgs([
      '--root',
      root,
      '--plugin-socket',
      path.join(tmp, 'p2.sock'),
      '--socket',
      path.join(tmp, 'c2.sock'),
      '--host-id',
      'test-host',
      '--log-level',
      'silent',
    ]);
    const err = (await startDaemon(config, createLogger('silent'), { timers }).catch((e: unknown) => e)) as {
      code?: string;
      message?: string;
      hint?: string;
    };
    expect(err).toMatchObject({
      code: 'CONVOY_STATE_INVALID',
      message: `mount state ${file} is corrupt: not valid JSON`,
      hint: expect.stringContaining('move it away'),
    });
  });

  it('listing, inspecting or deleting backups of a store that does not exist is not found, and creates nothing', async () => {
    const missing = path.join(tmp, 'no-such-store', 'deeper');
    const url = `vfs://${missing}`;
    const backup = encodeURIComponent(`${url}?backup=20260101T000000000Z-abcdef&volume=v`);
    for (const [method, target] of [
      ['GET', `/v1/backups?dest=${encodeURIComponent(url)}`],
      ['GET', `/v1/backups/inspect?url=${backup}`],
      ['DELETE', `/v1/backups?url=${backup}`],
      ['POST', '/v1/volumes'],
    ] as const) {
      const r = await call(method, target, method === 'POST' ? { name: 'from-nowhere', backup: decodeURIComponent(backup) } : undefined);
      expect(r.status, target).toBe(404);
      expect((r.json() as { error: unknown }).error).toMatchObject({
        code: 'CONVOY_STORE_NOT_FOUND',
        message: expect.stringContaining(missing),
        hint: expect.stringContaining('created by its first backup'),
      });
    }
    await expect(fs.stat(path.join(tmp, 'no-such-store'))).rejects.toThrow(/ENOENT/);
    expect((await call('GET', '/v1/volumes/from-nowhere')).status).toBe(404);
  });

  it('plugin socket: Docker call order, and Err answers for bad input', async () => {
    const c = new PluginClient(plugin);
    // Docker's answers: a success body or { Err }, read loosely here
    type Answer = {
      Err?: string;
      Capabilities?: { Scope: string };
      Mountpoint?: string;
      Volume?: { Mountpoint?: string };
      Volumes?: { Name: string }[];
    };
    const a = async (p: Promise<unknown>): Promise<Answer> => (await p) as Answer;
    expect(await a(c.activate())).toEqual({ Implements: ['VolumeDriver'] });
    expect((await a(c.capabilities())).Capabilities?.Scope).toBe('local'); // vfs.shared is off by default
    expect((await a(c.get('dock1'))).Err).toMatch(/dock1/);
    expect(await a(c.create('dock1', null))).toEqual({});
    const mount = await a(c.mount('dock1', 'container-1'));
    expect(mount.Mountpoint).toMatch(/data\//);
    expect((await a(c.get('dock1'))).Volume?.Mountpoint).toBe(mount.Mountpoint);
    expect((await a(c.list())).Volumes?.map((v) => v.Name)).toContain('dock1');
    expect(await a(c.unmount('dock1', 'container-1'))).toEqual({});
    expect(await a(c.remove('dock1'))).toEqual({});
    expect((await a(c.get('dock1'))).Err).toMatch(/dock1/);
    // an operator's mount (convoy mount) blocks Docker's Remove
    expect(await a(c.create('dock2', null))).toEqual({});
    expect((await call('POST', '/v1/volumes/dock2/mount', {})).status).toBe(200);
    expect((await a(c.remove('dock2'))).Err).toMatch(/mounted on this host \(by cli\)/);
    c.close();
  });

  it('refuses an S3 endpoint that is not http(s) or carries credentials, without printing them', async () => {
    for (const endpoint of [
      'http://AKIA:topsecret@127.0.0.1:7480',
      'http://topsecret@127.0.0.1',
      'ftp://127.0.0.1',
      'not a url topsecret@x',
    ]) {
      const err = await parseArgs(['--s3-endpoint', endpoint]).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message: string; hint?: string },
      );
      expect(err?.code, endpoint).toBe('CONVOY_CONFIG_INVALID');
      expect(`${err?.message} ${err?.hint}`).not.toContain('topsecret');
    }
    expect((await parseArgs(['--s3-endpoint', 'http://127.0.0.1:7480'])).s3Endpoint).toBe('http://127.0.0.1:7480');
  });

  it('parses Convoy flags, a config file, and refuses bad ones', async () => {
    const file = path.join(tmp, 'convoy.json');
    await fs.writeFile(file, JSON.stringify({ root: '/srv/convoy', drivers: ['vfs'], logLevel: 'debug' }));
    const c = await parseArgs(['--config', file, '--driver-opts', 'vfs.path=/mnt/nfs', '--ignore-docker-delete']);
    expect(c).toMatchObject({
      root: '/srv/convoy',
      logLevel: 'debug',
      driverOpts: { 'vfs.path': '/mnt/nfs' },
      ignoreDockerDelete: true,
      pluginSocket: DEFAULTS.pluginSocket,
    });
    await fs.writeFile(file, JSON.stringify({ rooot: '/x' }));
    await expect(parseArgs(['--config', file])).rejects.toThrow(/unknown key "rooot"/);
    // The config file reads through the same zod schema as the saved configuration.
    for (const [body, message] of [
      [{ drivers: 'vfs' }, /"drivers" must be an array/],
      [{ driverOpts: { 'vfs.path': 7 } }, /"driverOpts\.vfs\.path" must be a string/],
      [{ driverOpts: ['vfs.path=/x'] }, /"driverOpts" must be an object/],
      [{ ignoreDockerDelete: 'yes' }, /"ignoreDockerDelete" must be a boolean/],
      [[], /must hold a JSON object/],
    ] as const) {
      await fs.writeFile(file, JSON.stringify(body));
      await expect(parseArgs(['--config', file])).rejects.toMatchObject({
        code: 'CONVOY_CONFIG_INVALID',
        message: expect.stringMatching(message),
      });
    }
    await expect(parseArgs(['--root', 'relative'])).rejects.toThrow(/absolute/);
    await expect(parseArgs(['--driver-opts', 'novalue'])).rejects.toThrow(/key=value/);
  });
});
