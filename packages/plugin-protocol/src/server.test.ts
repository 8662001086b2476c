import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createNetServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isConvoyError } from '@convoy/errors';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PluginClient } from './client.js';
import { createPluginHandler, type PluginResponse } from './handler.js';
import { listenPluginSocket } from './server.js';
import { MemoryVolumeBackend } from './testing/index.js';

const ID = 'f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f';

let dir: string;
let socketPath: string;
const cleanups: (() => unknown)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convoy-pp-'));
  socketPath = join(dir, 'convoy.sock');
});

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await rm(dir, { recursive: true, force: true });
});

async function start(backend = new MemoryVolumeBackend(), path = socketPath, options: { bodyLimit?: number } = {}) {
  const server = await listenPluginSocket(createPluginHandler(backend), { socketPath: path, mode: 0o660, ...options });
  cleanups.push(() => server.close());
  let connections = 0;
  server.httpServer.on('connection', () => (connections += 1));
  const client = new PluginClient(path);
  cleanups.push(() => client.close());
  return { server, client, backend, connections: () => connections };
}

/** Leaves a socket file that nothing listens on (what a crashed daemon leaves behind). */
async function staleSocket(path: string): Promise<void> {
  const other = join(dir, 'dead.sock');
  const server = createNetServer();
  await new Promise<void>((ok) => server.listen(other, ok));
  await rename(other, path);
  await new Promise<void>((ok) => server.close(() => ok()));
}

function codeOf(err: unknown): string | undefined {
  return isConvoyError(err) ? err.code : undefined;
}

describe('listenPluginSocket', () => {
  it('creates the socket with mode 0660 and leaves no temporary files', async () => {
    await start();
    const st = await lstat(socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    expect(await readdir(dir)).toEqual(['convoy.sock']);
  });

  it('gives the socket the group asked for', async () => {
    const gid = process.getgid?.() ?? 0;
    const server = await listenPluginSocket(createPluginHandler(new MemoryVolumeBackend()), { socketPath, gid });
    cleanups.push(() => server.close());
    expect((await lstat(socketPath)).gid).toBe(gid);
  });

  it('serves the calls docker volume create / run / ls / rm make', async () => {
    const { client, connections } = await start();
    expect(await client.activate()).toEqual({ Implements: ['VolumeDriver'] });
    expect(await client.capabilities()).toEqual({ Capabilities: { Scope: 'local' } });
    expect(await client.get('web-data')).toEqual({ Err: expect.stringContaining('not found') });
    expect(await client.create('web-data')).toEqual({});
    expect(await client.get('web-data')).toMatchObject({ Volume: { Name: 'web-data' } });
    expect(await client.mount('web-data', ID)).toEqual({ Mountpoint: '/var/lib/convoy/mounts/web-data' });
    expect(await client.path('web-data')).toEqual({ Mountpoint: '/var/lib/convoy/mounts/web-data' });
    expect(await client.unmount('web-data', ID)).toEqual({});
    expect(await client.list()).toMatchObject({ Volumes: [{ Name: 'web-data' }] });
    expect(await client.remove('web-data')).toEqual({});
    expect(await client.list()).toEqual({ Volumes: [] });
    expect(connections()).toBe(1); // one kept-alive connection for all of it
  });

  it('keeps connections alive across many requests', async () => {
    const { client, connections } = await start();
    for (let i = 0; i < 50; i++) expect(await client.capabilities()).toHaveProperty('Capabilities');
    expect(connections()).toBe(1);
  });

  it('answers a malformed body with {"Err"} whatever the Content-Type', async () => {
    const { client } = await start();
    const reply = await client.raw('/VolumeDriver.Create', '{"Name": "v1"', { 'Content-Type': 'text/plain' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/vnd.docker.plugins.v1.2+json');
    expect(reply.body).toEqual({ Err: expect.stringMatching(/not valid JSON/) });
    const ok = await client.raw('/VolumeDriver.Create', '{"Name":"v1"}', { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(ok.body).toEqual({});
  });

  it('answers an oversized body with an error and serves the next request on the same connection', async () => {
    const { client, connections, backend } = await start(undefined, socketPath, { bodyLimit: 1024 * 1024 });
    const big = JSON.stringify({ Name: 'v1', Opts: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    const reply = await client.raw('/VolumeDriver.Create', big);
    expect(reply.status).toBe(413);
    expect(reply.body).toEqual({ Err: expect.stringMatching(/^request body larger than 1048576 bytes/) });
    expect(backend.calls).toEqual([]);
    expect(await client.create('v1')).toEqual({});
    expect(connections()).toBe(1);
  });

  it('a body over the discard limit closes that connection, and the server keeps serving', async () => {
    const backend = new MemoryVolumeBackend();
    const server = await listenPluginSocket(createPluginHandler(backend), { socketPath, bodyLimit: 1024, discardLimit: 4096 });
    cleanups.push(() => server.close());
    const client = new PluginClient(socketPath);
    cleanups.push(() => client.close());
    const reply = await client.raw('/VolumeDriver.Create', 'x'.repeat(64 * 1024));
    expect(reply.status).toBe(413);
    expect(reply.headers.connection).toBe('close');
    expect(await client.create('v1')).toEqual({});
  });

  it('survives 200 bad requests, then creates and mounts normally', async () => {
    const { client, backend, connections } = await start();
    const bad: [string, string | undefined][] = [
      ['/VolumeDriver.Create', '{'],
      ['/VolumeDriver.Create', '{"Name":"../etc"}'],
      ['/VolumeDriver.Create', `{"Name":"${'x'.repeat(300)}"}`],
      ['/VolumeDriver.Mount', '{"Name":"v1"}'],
      ['/VolumeDriver.Get', '[]'],
      ['/VolumeDriver.Nope', '{}'],
      ['/VolumeDriver.Create', '{"Name":"v1","Opts":{"a":1}}'],
      ['/', undefined],
    ];
    for (let i = 0; i < 200; i++) {
      const [path, body] = bad[i % bad.length] ?? ['/', undefined];
      const reply = await client.raw(path, body);
      expect(reply.body).toHaveProperty('Err');
    }
    expect(backend.calls).toEqual([]);
    expect(await client.create('after-storm')).toEqual({});
    expect(await client.mount('after-storm', ID)).toEqual({ Mountpoint: '/var/lib/convoy/mounts/after-storm' });
    expect(connections()).toBe(1);
  });

  it('a handler that throws, or a reply JSON cannot encode, is an Err answer and the server keeps serving', async () => {
    const handler = (path: string): Promise<PluginResponse> => {
      if (path === '/VolumeDriver.List') return Promise.resolve({ status: 200, body: { Volumes: [{ Name: 'v', Status: { size: 1n } }] } });
      if (path === '/VolumeDriver.Get') throw new Error('handler bug');
      return Promise.resolve({ status: 200, body: {} });
    };
    const server = await listenPluginSocket(handler, { socketPath });
    cleanups.push(() => server.close());
    const client = new PluginClient(socketPath);
    cleanups.push(() => client.close());
    const unencodable = await client.raw('/VolumeDriver.List', '{}');
    expect(unencodable.status).toBe(500);
    expect(unencodable.body).toEqual({ Err: expect.stringMatching(/^internal error: .*BigInt/) });
    const thrown = await client.raw('/VolumeDriver.Get', '{"Name":"v"}');
    expect(thrown.status).toBe(500);
    expect(thrown.body).toEqual({ Err: 'internal error: handler bug' });
    expect((await client.raw('/Plugin.Activate', '')).body).toEqual({});
  });

  it('answers methods other than POST with 405', async () => {
    await start();
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const socket = connect(socketPath, () => socket.write('GET /Plugin.Activate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => resolve({ status: Number(text.split(' ')[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
      socket.on('error', reject);
    });
    expect(reply.status).toBe(405);
    expect(JSON.parse(reply.body)).toEqual({ Err: expect.stringContaining('POST') });
  });

  it('a request node:http cannot parse (bad method, target or chunking, huge headers) or a CONNECT is a JSON Err answer, and the server keeps serving', async () => {
    const { client } = await start();
    const raw = (request: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const socket = connect(socketPath, () => socket.write(request));
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('end', () => resolve({ status: Number(text.split(' ')[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
        socket.on('error', reject);
      });
    const cases: [string, number][] = [
      ['G\u0001T /Plugin.Activate HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['POST /Volume Driver.List HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['POST /VolumeDriver.List HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 400],
      [`POST /VolumeDriver.List HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      ['CONNECT /VolumeDriver.List HTTP/1.1\r\nHost: x\r\n\r\n', 405],
    ];
    for (const [request, status] of cases) {
      const reply = await raw(request);
      expect(reply.status, request.slice(0, 40)).toBe(status);
      expect(JSON.parse(reply.body)).toEqual({
        Err: expect.stringMatching(/^(malformed HTTP request|request headers too large|method CONNECT not allowed)/),
      });
    }
    expect((await client.raw('/Plugin.Activate', '')).body).toEqual({ Implements: ['VolumeDriver'] });
  });

  it('replaces a stale socket left by a dead daemon', async () => {
    await staleSocket(socketPath);
    expect((await lstat(socketPath)).isSocket()).toBe(true);
    const { client } = await start();
    expect(await client.activate()).toEqual({ Implements: ['VolumeDriver'] });
    expect((await lstat(socketPath)).mode & 0o777).toBe(0o660);
  });

  it('refuses a socket another live server answers on, and leaves it alone', async () => {
    const { client } = await start();
    const error = await listenPluginSocket(createPluginHandler(new MemoryVolumeBackend()), { socketPath }).catch((e: unknown) => e);
    expect(codeOf(error)).toBe('CONVOY_SOCKET_IN_USE');
    expect(await client.activate()).toEqual({ Implements: ['VolumeDriver'] });
    expect(await readdir(dir)).toEqual(['convoy.sock']);
  });

  it('refuses a path that is not a socket', async () => {
    await writeFile(socketPath, 'precious');
    const error = await listenPluginSocket(createPluginHandler(new MemoryVolumeBackend()), { socketPath }).catch((e: unknown) => e);
    expect(codeOf(error)).toBe('CONVOY_SOCKET_PATH_INVALID');
    expect((await stat(socketPath)).isFile()).toBe(true);
  });

  it('refuses a path too long for a unix socket', async () => {
    const long = join(dir, `${'s'.repeat(120)}.sock`);
    const error = await listenPluginSocket(createPluginHandler(new MemoryVolumeBackend()), { socketPath: long }).catch((e: unknown) => e);
    expect(codeOf(error)).toBe('CONVOY_SOCKET_PATH_INVALID');
  });

  it('close() unlinks its own socket', async () => {
    const { server, client } = await start();
    await client.activate();
    await server.close();
    expect(existsSync(socketPath)).toBe(false);
    await server.close(); // twice is fine (SIGTERM after SIGINT)
  });

  it('close() leaves another server’s socket at the same path alone', async () => {
    const a = await start();
    await rename(socketPath, join(dir, 'old.sock')); // e.g. an upgrade moved it aside
    const b = await start();
    await a.server.close();
    expect((await lstat(socketPath)).isSocket()).toBe(true);
    expect(await b.client.activate()).toEqual({ Implements: ['VolumeDriver'] });
    await b.server.close();
    expect(existsSync(socketPath)).toBe(false);
  });

  it('close() lets an in-flight request finish and refuses new connections', async () => {
    const backend = new MemoryVolumeBackend();
    const { server, client } = await start(backend);
    await client.create('slow');
    let release!: () => void;
    backend.stall('mount', new Promise<void>((r) => (release = r)));
    const mounting = client.raw('/VolumeDriver.Mount', JSON.stringify({ Name: 'slow', ID }));
    await vi.waitFor(() => expect(backend.methods).toContain('mount'), { timeout: 30_000 });
    expect(server.inFlight).toBe(1);

    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await vi.waitFor(() => expect(existsSync(socketPath)).toBe(false), { timeout: 30_000 });
    const late = new PluginClient(socketPath);
    cleanups.push(() => late.close());
    await expect(late.activate()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(closed).toBe(false);

    release();
    const reply = await mounting;
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ Mountpoint: '/var/lib/convoy/mounts/slow' });
    expect(reply.headers.connection).toBe('close');
    await closing;
    expect(closed).toBe(true);
  });

  it('close() does not wait for idle kept-alive connections', async () => {
    const server = await listenPluginSocket(createPluginHandler(new MemoryVolumeBackend()), {
      socketPath,
      keepAliveTimeoutMs: 3_600_000, // if close() waited for idle connections, this test would time out
    });
    const client = new PluginClient(socketPath);
    cleanups.push(() => client.close());
    let connections = 0;
    server.httpServer.on('connection', () => (connections += 1));
    await client.activate(); // leaves an idle keep-alive connection
    await server.close();
    expect(connections).toBe(1);
    expect(server.httpServer.listening).toBe(false);
  });
});
