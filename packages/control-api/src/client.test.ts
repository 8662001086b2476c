// ControlClient against a test double of convoy-daemon (a node:http server on a unix socket).
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ERROR, ControlApiError } from './client-errors.js';
import { ControlClient } from './client.js';
import { FakeDaemon } from './testing/index.js';
import { MAX_REQUEST_BODY_BYTES, NDJSON, type ProgressEvent, type Snapshot, type Volume } from './types.js';

const volume: Volume = {
  name: 'v1',
  uuid: '0b5c6a53-3f4e-4a47-9d7c-3b1f0c7d9e21',
  driver: 'vfs',
  createdAt: '2026-11-24T17:00:00.000Z',
  mountedBy: [],
};
const snapshot: Snapshot = { name: 's1', uuid: 'a1', volume: 'v1', driver: 'vfs', createdAt: '2026-11-24T17:01:00.000Z' };
const backupUrl = 'vfs:///mnt/bk?backup=0001&volume=v1';
const summary = {
  id: '0001',
  volume: 'v1',
  created: '2026-11-24T17:02:00.000Z',
  snapshot: 's1',
  size: 10,
  parent: null,
  labels: {},
  url: backupUrl,
  stats: {},
};
const progress = (bytesDone: number): ProgressEvent => ({
  type: 'progress',
  phase: 'upload',
  bytesDone,
  bytesTotal: 100,
  blocksDone: bytesDone / 10,
  blocksTotal: 10,
  bytesTransferred: bytesDone,
});

let daemon: FakeDaemon;
let client: ControlClient;

beforeAll(async () => {
  daemon = await FakeDaemon.start();
  client = new ControlClient({ socketPath: daemon.socketPath, userAgent: 'convoy-test/1' });
});
afterEach(() => daemon.reset());
afterAll(async () => {
  await client.close();
  await daemon.stop();
});

describe('one method per route', () => {
  const cases: {
    name: string;
    route: [string, string];
    reply: unknown;
    call: (c: ControlClient) => Promise<unknown>;
    line: string;
    body?: unknown;
    expected: unknown;
  }[] = [
    {
      name: 'info',
      route: ['GET', '/v1/info'],
      reply: { version: '0.1.0', host: 'h', root: '/r', defaultDriver: 'vfs', drivers: {}, mounted: [] },
      call: (c) => c.info(),
      line: 'GET /v1/info',
      expected: { version: '0.1.0', host: 'h', root: '/r', defaultDriver: 'vfs', drivers: {}, mounted: [] },
    },
    {
      name: 'listVolumes',
      route: ['GET', '/v1/volumes'],
      reply: { volumes: [volume] },
      call: (c) => c.listVolumes(),
      line: 'GET /v1/volumes',
      expected: [volume],
    },
    {
      name: 'createVolume',
      route: ['POST', '/v1/volumes'],
      reply: volume,
      call: (c) => c.createVolume({ name: 'v1', driver: 'vfs', size: '10G', options: { a: 'b' } }),
      line: 'POST /v1/volumes',
      body: { name: 'v1', driver: 'vfs', size: '10G', options: { a: 'b' } },
      expected: volume,
    },
    {
      name: 'getVolume',
      route: ['GET', '/v1/volumes/:name'],
      reply: volume,
      call: (c) => c.getVolume('0b5c'),
      line: 'GET /v1/volumes/0b5c',
      expected: volume,
    },
    {
      name: 'deleteVolume',
      route: ['DELETE', '/v1/volumes/:name'],
      reply: {},
      call: (c) => c.deleteVolume('v1'),
      line: 'DELETE /v1/volumes/v1',
      expected: undefined,
    },
    {
      name: 'deleteVolume force',
      route: ['DELETE', '/v1/volumes/:name'],
      reply: {},
      call: (c) => c.deleteVolume('v1', { force: true }),
      line: 'DELETE /v1/volumes/v1?force=1',
      expected: undefined,
    },
    {
      name: 'deleteVolume reference',
      route: ['DELETE', '/v1/volumes/:name'],
      reply: {},
      call: (c) => c.deleteVolume('v1', { reference: true }),
      line: 'DELETE /v1/volumes/v1?reference=1',
      expected: undefined,
    },
    {
      name: 'mountVolume',
      route: ['POST', '/v1/volumes/:name/mount'],
      reply: { mountpoint: '/m/v1' },
      call: (c) => c.mountVolume('v1', { mountpoint: '/m/v1' }),
      line: 'POST /v1/volumes/v1/mount',
      body: { mountpoint: '/m/v1' },
      expected: { mountpoint: '/m/v1' },
    },
    {
      name: 'mountVolume default',
      route: ['POST', '/v1/volumes/:name/mount'],
      reply: { mountpoint: '/m/v1' },
      call: (c) => c.mountVolume('v1'),
      line: 'POST /v1/volumes/v1/mount',
      body: {},
      expected: { mountpoint: '/m/v1' },
    },
    {
      name: 'umountVolume',
      route: ['POST', '/v1/volumes/:name/umount'],
      reply: {},
      call: (c) => c.umountVolume('v1'),
      line: 'POST /v1/volumes/v1/umount',
      expected: undefined,
    },
    {
      name: 'listSnapshots',
      route: ['GET', '/v1/snapshots'],
      reply: { snapshots: [snapshot] },
      call: (c) => c.listSnapshots('v1'),
      line: 'GET /v1/snapshots?volume=v1',
      expected: [snapshot],
    },
    {
      name: 'listSnapshots all',
      route: ['GET', '/v1/snapshots'],
      reply: { snapshots: [] },
      call: (c) => c.listSnapshots(),
      line: 'GET /v1/snapshots',
      expected: [],
    },
    {
      name: 'createSnapshot',
      route: ['POST', '/v1/snapshots'],
      reply: snapshot,
      call: (c) => c.createSnapshot({ volume: 'v1', name: 's1' }),
      line: 'POST /v1/snapshots',
      body: { volume: 'v1', name: 's1' },
      expected: snapshot,
    },
    {
      name: 'getSnapshot',
      route: ['GET', '/v1/snapshots/:name'],
      reply: snapshot,
      call: (c) => c.getSnapshot('s1'),
      line: 'GET /v1/snapshots/s1',
      expected: snapshot,
    },
    {
      name: 'deleteSnapshot',
      route: ['DELETE', '/v1/snapshots/:name'],
      reply: {},
      call: (c) => c.deleteSnapshot('s1'),
      line: 'DELETE /v1/snapshots/s1',
      expected: undefined,
    },
    {
      name: 'listBackups',
      route: ['GET', '/v1/backups'],
      reply: { backups: [summary] },
      call: (c) => c.listBackups('vfs:///mnt/bk', 'v1'),
      line: 'GET /v1/backups?dest=vfs%3A%2F%2F%2Fmnt%2Fbk&volume=v1',
      expected: [summary],
    },
    {
      name: 'inspectBackup',
      route: ['GET', '/v1/backups/inspect'],
      reply: { ...summary, manifest: { blocks: [] } },
      call: (c) => c.inspectBackup(backupUrl),
      line: `GET /v1/backups/inspect?url=${encodeURIComponent(backupUrl)}`,
      expected: { ...summary, manifest: { blocks: [] } },
    },
    {
      name: 'deleteBackup',
      route: ['DELETE', '/v1/backups'],
      reply: { blocksDeleted: 3, blockMapsDeleted: 1, blocksKept: 2 },
      call: (c) => c.deleteBackup(backupUrl),
      line: `DELETE /v1/backups?url=${encodeURIComponent(backupUrl)}`,
      expected: { blocksDeleted: 3, blockMapsDeleted: 1, blocksKept: 2 },
    },
  ];

  it.each(cases)('$name sends $line', async ({ route, reply, call, line, body, expected }) => {
    daemon.on(route[0], route[1], { json: reply });
    await expect(call(client)).resolves.toEqual(expected);
    const req = daemon.last();
    expect(`${req.method} ${req.path}`).toBe(line);
    expect(req.json).toEqual(body);
    expect(req.headers.accept).toBe('application/json');
    expect(req.headers['user-agent']).toBe('convoy-test/1');
    if (body !== undefined) expect(req.headers['content-type']).toBe('application/json');
  });

  it('encodes names and query values', async () => {
    daemon.on('GET', '/v1/volumes/:name', (r) => ({ json: { ...volume, name: r.params.name } }));
    await expect(client.getVolume('a b/c')).resolves.toMatchObject({ name: 'a b/c' });
    expect(daemon.last().path).toBe('/v1/volumes/a%20b%2Fc');
  });

  it('an empty 204 answer counts as {}', async () => {
    daemon.on('POST', '/v1/volumes/:name/umount', { status: 204, text: '' });
    await expect(client.umountVolume('v1')).resolves.toBeUndefined();
  });
});

describe('streamed work (NDJSON)', () => {
  it('createBackup asks for NDJSON, reports each progress line and returns the result', async () => {
    daemon.on('POST', '/v1/backups', {
      ndjson: [progress(10), progress(50), progress(100), { type: 'result', result: { url: backupUrl, id: '0001' } }],
    });
    const seen: ProgressEvent[] = [];
    const result = await client.createBackup(
      { snapshot: 's1', dest: 'vfs:///mnt/bk', labels: { k: 'v' } },
      { onProgress: (p) => seen.push(p) },
    );
    expect(result).toEqual({ url: backupUrl, id: '0001' });
    expect(seen.map((p) => p.bytesDone)).toEqual([10, 50, 100]);
    const req = daemon.last();
    expect(`${req.method} ${req.path}`).toBe('POST /v1/backups');
    expect(req.headers.accept).toContain(NDJSON);
    expect(req.json).toEqual({ snapshot: 's1', dest: 'vfs:///mnt/bk', labels: { k: 'v' } });
  });

  it('createVolume from a backup streams; without one it does not ask for a stream', async () => {
    daemon.on('POST', '/v1/volumes', (r) =>
      r.headers.accept?.includes(NDJSON) === true ? { ndjson: [progress(100), { type: 'result', result: volume }] } : { json: volume },
    );
    const seen: ProgressEvent[] = [];
    await expect(client.createVolume({ name: 'v1', backup: backupUrl }, { onProgress: (p) => seen.push(p) })).resolves.toEqual(volume);
    expect(seen).toHaveLength(1);
    expect(daemon.last().json).toEqual({ name: 'v1', backup: backupUrl });
    await expect(client.createVolume({ name: 'v1' })).resolves.toEqual(volume);
    expect(daemon.last().headers.accept).toBe('application/json');
  });

  it("an error line after progress becomes a ControlApiError with the daemon's code, message and hint", async () => {
    daemon.on('POST', '/v1/backups', {
      ndjson: [
        progress(10),
        { type: 'error', error: { code: 'CONVOY_STORE_LOCKED', message: 'the store is locked by host b', hint: 'wait for it' } },
      ],
    });
    const seen: ProgressEvent[] = [];
    const err = await client
      .createBackup({ snapshot: 's1', dest: 'vfs:///x' }, { onProgress: (p) => seen.push(p) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlApiError);
    expect(err).toMatchObject({ code: 'CONVOY_STORE_LOCKED', message: 'the store is locked by host b', hint: 'wait for it', status: 409 });
    expect(seen).toHaveLength(1);
  });

  it('lines split across chunks, CRLF and blank lines are read; unknown line types are skipped', async () => {
    daemon.on('POST', '/v1/backups', {
      ndjson: [progress(10), { type: 'note', text: 'hi' }, { type: 'result', result: { url: backupUrl, id: '0001' } }],
      intervalMs: 5,
    });
    const seen: number[] = [];
    await expect(
      client.createBackup({ snapshot: 's1', dest: 'vfs:///x' }, { onProgress: (p) => seen.push(p.bytesDone) }),
    ).resolves.toMatchObject({ id: '0001' });
    expect(seen).toEqual([10]);
  });

  it('a stream that ends without a result is a lost connection', async () => {
    daemon.on('POST', '/v1/backups', { ndjson: [progress(10)] });
    await expect(client.createBackup({ snapshot: 's1', dest: 'vfs:///x' })).rejects.toMatchObject({ code: CLIENT_ERROR.connectionLost });
  });

  it('a stream line that is not JSON is a bad response', async () => {
    daemon.on('POST', '/v1/backups', { status: 200, text: '{"type":"progress"\nnot json\n', contentType: NDJSON });
    await expect(client.createBackup({ snapshot: 's1', dest: 'vfs:///x' })).rejects.toMatchObject({ code: CLIENT_ERROR.badResponse });
  });

  it('a plain JSON error before the stream starts is mapped as usual', async () => {
    daemon.on('POST', '/v1/backups', { status: 404, error: { code: 'CONVOY_SNAPSHOT_NOT_FOUND', message: 'snapshot s9 does not exist' } });
    await expect(client.createBackup({ snapshot: 's9', dest: 'vfs:///x' })).rejects.toMatchObject({
      code: 'CONVOY_SNAPSHOT_NOT_FOUND',
      status: 404,
    });
  });

  it('aborting closes the connection (which cancels the work on the daemon) and rejects with the reason', async () => {
    daemon.on('POST', '/v1/backups', { ndjson: [progress(10)], hold: true });
    const controller = new AbortController();
    const reason = new Error('stop');
    const run = client.createBackup(
      { snapshot: 's1', dest: 'vfs:///x' },
      { signal: controller.signal, onProgress: () => controller.abort(reason) },
    );
    await expect(run).rejects.toBe(reason);
    await expect.poll(() => daemon.last().disconnected).toBe(true);
    // the client still works afterwards
    daemon.on('GET', '/v1/info', { json: { version: '1', host: 'h', root: '/r', defaultDriver: 'vfs', drivers: {}, mounted: [] } });
    await expect(client.info()).resolves.toMatchObject({ version: '1' });
  });

  it('an already aborted signal sends nothing', async () => {
    const controller = new AbortController();
    controller.abort(new Error('early'));
    await expect(client.info({ signal: controller.signal })).rejects.toThrow('early');
    expect(daemon.requests).toHaveLength(0);
  });
});

describe('errors', () => {
  it("non-2xx answers carry the daemon's code, message, hint and status", async () => {
    daemon.on('GET', '/v1/volumes/:name', {
      status: 404,
      error: { code: 'CONVOY_VOLUME_NOT_FOUND', message: 'volume nope does not exist', hint: 'convoy list shows the volumes' },
    });
    const err = await client.getVolume('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlApiError);
    expect(err).toMatchObject({
      name: 'ControlApiError',
      code: 'CONVOY_VOLUME_NOT_FOUND',
      message: 'volume nope does not exist',
      hint: 'convoy list shows the volumes',
      status: 404,
    });
  });

  it.each([
    [404, 'CONVOY_UNKNOWN_ROUTE'],
    [409, 'CONVOY_CONFLICT'],
    [400, 'CONVOY_INVALID_REQUEST'],
    [502, CLIENT_ERROR.httpError],
  ])('a %i answer without an error body is mapped by status to %s', async (status, code) => {
    daemon.on('GET', '/v1/info', { status, text: 'upstream trouble' });
    await expect(client.info()).rejects.toMatchObject({ code, status, message: expect.stringContaining('upstream trouble') });
  });

  it('a 2xx answer of the wrong shape is a bad response', async () => {
    daemon.on('GET', '/v1/volumes', { json: { vols: [] } });
    await expect(client.listVolumes()).rejects.toMatchObject({
      code: CLIENT_ERROR.badResponse,
      hint: expect.stringContaining('convoy --version'),
    });
    daemon.on('GET', '/v1/info', { text: '<html>', contentType: 'text/html' });
    await expect(client.info()).rejects.toMatchObject({ code: CLIENT_ERROR.badResponse });
  });

  it('a body over 1 MiB is refused before it is sent', async () => {
    const big = 'x'.repeat(MAX_REQUEST_BODY_BYTES);
    await expect(client.createVolume({ name: 'v1', options: { big } })).rejects.toMatchObject({
      code: CLIENT_ERROR.requestTooLarge,
      message: expect.stringContaining(String(MAX_REQUEST_BODY_BYTES)),
    });
    expect(daemon.requests).toHaveLength(0);
  });

  it('a 413 from the daemon is reported (its error body, or a clear message without one)', async () => {
    const small = await FakeDaemon.start({ maxBodyBytes: 1024 });
    const c = new ControlClient({ socketPath: small.socketPath });
    try {
      small.on('POST', '/v1/volumes', { json: volume });
      await expect(c.createVolume({ name: 'v1', options: { big: 'x'.repeat(4096) } })).rejects.toMatchObject({
        code: 'CONVOY_REQUEST_TOO_LARGE',
        status: 413,
      });
      small.on('POST', '/v1/volumes', { status: 413, text: '' });
      await expect(c.createVolume({ name: 'v1' })).rejects.toMatchObject({
        code: CLIENT_ERROR.requestTooLarge,
        status: 413,
        message: expect.stringContaining('too large'),
      });
    } finally {
      await c.close();
      await small.stop();
    }
  });
});

describe('reaching the daemon', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-client-test-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('no socket: CONVOY_DAEMON_UNREACHABLE with the hint to start the daemon', async () => {
    const socketPath = path.join(dir, 'missing.sock');
    const c = new ControlClient({ socketPath });
    const err = await c.info().catch((e: unknown) => e);
    await c.close();
    expect(err).toBeInstanceOf(ControlApiError);
    expect(err).toMatchObject({
      code: 'CONVOY_DAEMON_UNREACHABLE',
      message: expect.stringContaining('ENOENT'),
      hint: `is convoy-daemon running? start it with \`convoy daemon\` or \`systemctl start convoy\`; socket: ${socketPath}`,
    });
  });

  it('a stale socket nobody listens on: CONVOY_DAEMON_UNREACHABLE (ECONNREFUSED)', async () => {
    // a socket file left behind, as by a killed daemon: a hard link to a socket whose server is closed
    const live = path.join(dir, 'live.sock');
    const socketPath = path.join(dir, 'stale.sock');
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(live, r));
    await fs.link(live, socketPath);
    await new Promise((r) => server.close(r));
    const c = new ControlClient({ socketPath });
    const err = await c.info().catch((e: unknown) => e);
    await c.close();
    expect(err).toMatchObject({ code: 'CONVOY_DAEMON_UNREACHABLE', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('a socket without permission: CONVOY_DAEMON_ACCESS_DENIED with a hint about its group', async () => {
    const sub = path.join(dir, 'perm');
    await fs.mkdir(sub, { mode: 0o755 });
    await fs.chmod(sub, 0o755);
    const socketPath = path.join(sub, 'convoy.sock');
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(socketPath, r));
    try {
      await fs.chmod(socketPath, 0o660);
      let err: unknown;
      if (process.getuid?.() === 0) {
        // root ignores the mode: connect as nobody
        err = await connectAsNobody(socketPath, dir);
      } else {
        await fs.chmod(socketPath, 0o000);
        const c = new ControlClient({ socketPath });
        err = await c.info().catch((e: unknown) => e);
        await c.close();
      }
      expect(err).toMatchObject({
        code: 'CONVOY_DAEMON_ACCESS_DENIED',
        message: expect.stringContaining(socketPath),
        hint: expect.stringContaining('0660'),
      });
      expect((err as { hint: string }).hint).toMatch(/group \S+/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('the daemon dying mid-request: CONVOY_DAEMON_CONNECTION_LOST', async () => {
    const socketPath = path.join(dir, 'dying.sock');
    const server = net.createServer((s) => s.once('data', () => s.destroy()));
    await new Promise<void>((r) => server.listen(socketPath, r));
    const c = new ControlClient({ socketPath });
    const err = await c.info().catch((e: unknown) => e);
    await c.close();
    await new Promise((r) => server.close(r));
    expect(err).toMatchObject({ code: CLIENT_ERROR.connectionLost });
  });
});

/**
 * ControlClient.info() with the effective uid/gid of nobody (65534), in this process: a child Node
 * run as nobody could not reach the node binary or the sources of a checkout in a 0700 directory
 * (root's home). vitest runs each test file in its own process, so nothing else runs under these
 * ids meanwhile; they are restored before anything else happens.
 */
async function connectAsNobody(socketPath: string, dir: string): Promise<unknown> {
  await fs.chmod(dir, 0o755); // mkdtemp makes it 0700: nobody must reach the socket's directory
  const c = new ControlClient({ socketPath });
  process.setegid?.(65534);
  process.seteuid?.(65534);
  try {
    return await c.info().catch((e: unknown) => e);
  } finally {
    process.seteuid?.(0);
    process.setegid?.(0);
    await c.close();
    await fs.chmod(dir, 0o700);
  }
}

describe('answers are parsed by the shared schemas', () => {
  it('an answer with a field of the wrong type is a bad response naming the field', async () => {
    daemon.on('GET', '/v1/volumes/:name', { json: { name: 'v1', uuid: 'u', driver: 'vfs', createdAt: 'now', mountedBy: 'nobody' } });
    await expect(client.getVolume('v1')).rejects.toMatchObject({
      code: CLIENT_ERROR.badResponse,
      message: expect.stringContaining('mountedBy'),
    });
  });

  it('fields a newer daemon adds are kept', async () => {
    daemon.on('GET', '/v1/volumes/:name', {
      json: { name: 'v1', uuid: 'u', driver: 'vfs', createdAt: 'now', mountedBy: [], fromTheFuture: 1 },
    });
    await expect(client.getVolume('v1')).resolves.toMatchObject({ name: 'v1', fromTheFuture: 1 });
  });
});
