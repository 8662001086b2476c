// Bad input on both of the daemon's sockets: malformed and oversized bodies, names with "/", "..",
// NUL or 300 characters, unknown volumes and routes. Every one gets an error answer (`{"Err"}` on
// the plugin socket, `{"error":{code,message,hint}}` with a 4xx on the control socket), the
// kept-alive connection stays usable, and after hundreds of them the daemon still serves Docker.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ControlClient } from '@convoy/control-api';
import { PLUGIN_MEDIA_TYPE, PluginClient } from '@convoy/plugin-protocol';
import { ConvoyDaemon } from './helpers/daemon.js';
import { cleanDocker, docker, dockerOk, runInVolume } from './helpers/docker.js';
import { PLUGIN_SOCKET, makeTempDir, nameFactory, removeDir } from './helpers/env.js';
import { UnixHttp, type UnixReply } from './helpers/unix-http.js';

const target = inject('convoyDocker');

const MIB = 1024 * 1024;
/** Names no volume may have: a path separator, a parent directory, NUL, longer than a file name. */
const BAD_NAMES: Record<string, string> = {
  slash: 'a/b',
  dotdot: '..',
  traversal: '../../etc/passwd',
  nul: 'a\u0000b',
  long300: 'x'.repeat(300),
};
const UNKNOWN = 'e2e-no-such-volume';

interface BadRequest {
  what: string;
  method: string;
  path: string;
  body?: string;
}

/** A JSON body over 1 MiB (a Create whose option value is huge). */
const oversized = (): string => JSON.stringify({ Name: 'big', Opts: { pad: 'a'.repeat(MIB + 100) } });

function pluginCases(): BadRequest[] {
  const post = (what: string, endpoint: string, body?: string): BadRequest => ({
    what,
    method: 'POST',
    path: `/VolumeDriver.${endpoint}`,
    body,
  });
  const cases: BadRequest[] = [
    post('malformed JSON', 'Create', '{"Name":"abc",'),
    post('a JSON array', 'Create', '["abc"]'),
    post('a JSON string', 'Get', '"abc"'),
    post('Opts that are not strings', 'Create', '{"Name":"abc","Opts":{"size":1}}'),
    post('Mount without ID', 'Mount', '{"Name":"abc"}'),
    post('Name missing', 'Remove', '{}'),
    post('Name not a string', 'Get', '{"Name":42}'),
    post('oversized body', 'Create', oversized()),
    post('unknown volume', 'Get', JSON.stringify({ Name: UNKNOWN })),
    post('unknown volume', 'Mount', JSON.stringify({ Name: UNKNOWN, ID: 'c0ffee' })),
    post('a name Docker allows but convoy does not', 'Create', JSON.stringify({ Name: 'a..b', Opts: null })),
    post('a name Docker allows but convoy does not', 'Get', JSON.stringify({ Name: 'a..b' })),
    post('a name Docker allows but convoy does not', 'Mount', JSON.stringify({ Name: 'a..b', ID: 'c0ffee' })),
    post('a name Docker allows but convoy does not', 'Remove', JSON.stringify({ Name: 'a..b' })),
    { what: 'unknown endpoint', method: 'POST', path: '/VolumeDriver.Snapshot', body: '{}' },
    { what: 'GET instead of POST', method: 'GET', path: '/VolumeDriver.List' },
  ];
  for (const [kind, name] of Object.entries(BAD_NAMES)) {
    for (const endpoint of ['Create', 'Remove', 'Mount', 'Unmount', 'Path', 'Get']) {
      cases.push(
        post(
          `name ${kind}`,
          endpoint,
          JSON.stringify({
            Name: name,
            ...(endpoint === 'Create' ? { Opts: {} } : {}),
            ...(endpoint.endsWith('ount') ? { ID: 'c0ffee' } : {}),
          }),
        ),
      );
    }
  }
  return cases;
}

function controlCases(): BadRequest[] {
  const cases: BadRequest[] = [
    { what: 'malformed JSON', method: 'POST', path: '/v1/volumes', body: '{"name":"abc",' },
    {
      what: 'oversized body',
      method: 'POST',
      path: '/v1/volumes',
      body: JSON.stringify({ name: 'big', options: { pad: 'a'.repeat(MIB + 100) } }),
    },
    { what: 'malformed JSON', method: 'POST', path: '/v1/snapshots', body: '{' },
    {
      what: 'oversized body',
      method: 'POST',
      path: '/v1/backups',
      body: JSON.stringify({ snapshot: 's', dest: 'vfs:///tmp/x', labels: { pad: 'a'.repeat(MIB + 100) } }),
    },
    { what: 'unknown volume', method: 'GET', path: `/v1/volumes/${UNKNOWN}` },
    { what: 'unknown volume', method: 'DELETE', path: `/v1/volumes/${UNKNOWN}` },
    { what: 'unknown volume', method: 'POST', path: `/v1/volumes/${UNKNOWN}/mount`, body: '{}' },
    { what: 'unknown volume', method: 'POST', path: '/v1/snapshots', body: JSON.stringify({ volume: UNKNOWN }) },
    { what: 'unknown route', method: 'POST', path: '/v1/volumes/abc/explode', body: '{}' },
    { what: 'unknown route', method: 'GET', path: '/v2/volumes' },
    { what: 'a name with ".." inside', method: 'POST', path: '/v1/volumes', body: JSON.stringify({ name: 'a..b' }) },
  ];
  for (const [kind, name] of Object.entries(BAD_NAMES)) {
    const seg = encodeURIComponent(name);
    cases.push(
      { what: `name ${kind}`, method: 'POST', path: '/v1/volumes', body: JSON.stringify({ name }) },
      { what: `name ${kind}`, method: 'GET', path: `/v1/volumes/${seg}` },
      { what: `name ${kind}`, method: 'DELETE', path: `/v1/volumes/${seg}` },
      { what: `name ${kind}`, method: 'POST', path: `/v1/volumes/${seg}/mount`, body: '{}' },
      { what: `name ${kind}`, method: 'POST', path: `/v1/volumes/${seg}/umount`, body: '{}' },
      { what: `name ${kind}`, method: 'POST', path: '/v1/snapshots', body: JSON.stringify({ volume: name }) },
    );
  }
  return cases;
}

/** The plugin socket's answer to bad input: `{"Err": "…"}`, never an internal error. */
function expectPluginErr(c: BadRequest, r: UnixReply): void {
  const label = `${c.what}: ${c.method} ${c.path} → ${r.status} ${r.error ?? r.text.slice(0, 300)}`;
  expect([200, 404, 405, 413], label).toContain(r.status);
  expect(r.headers['content-type'], label).toBe(PLUGIN_MEDIA_TYPE);
  const err = (r.json as { Err?: unknown } | undefined)?.Err;
  expect(typeof err === 'string' && err.length > 0, label).toBe(true);
  expect(String(err), label).not.toMatch(/^internal error/);
  expect(String(err), label).not.toContain('\u0000');
}

/** The control socket's answer to bad input: a 4xx with `{"error":{code,message,hint}}`. */
function expectControlError(c: BadRequest, r: UnixReply): void {
  const label = `${c.what}: ${c.method} ${c.path.slice(0, 80)} → ${r.status} ${r.error ?? r.text.slice(0, 300)}`;
  expect(r.status >= 400 && r.status < 500, label).toBe(true);
  const error = (r.json as { error?: Record<string, unknown> } | undefined)?.error;
  expect(error, label).toMatchObject({
    code: expect.stringMatching(/^CONVOY_[A-Z_]+$/),
    message: expect.stringMatching(/\S/),
    hint: expect.stringMatching(/\S/),
  });
}

describe.skipIf(!target.available)('bad input on the plugin and control sockets', () => {
  const name = nameFactory();
  const volumes: string[] = [];
  let tmp: string;
  let daemon: ConvoyDaemon | undefined;
  let controlSocket: string;
  let client: ControlClient;
  let plugin: PluginClient;

  beforeAll(async () => {
    tmp = await makeTempDir('bad-input');
    controlSocket = join(tmp, 'control.sock');
    daemon = await ConvoyDaemon.start({
      label: 'bad-input',
      root: join(tmp, 'root'),
      vfsPath: join(tmp, 'vfs'),
      socket: PLUGIN_SOCKET,
      controlSocket,
      hostId: 'e2e-bad-input',
    });
    client = new ControlClient({ socketPath: controlSocket });
    plugin = new PluginClient(PLUGIN_SOCKET);
  });

  afterAll(async () => {
    const problems = daemon?.running === true ? await cleanDocker(volumes) : [];
    plugin?.close();
    await client?.close();
    await daemon?.dispose();
    await removeDir(tmp);
    expect(problems).toEqual([]);
  });

  it('serves both sockets with mode 0660', () => {
    for (const socket of [PLUGIN_SOCKET, controlSocket]) {
      const st = lstatSync(socket);
      expect(st.isSocket(), socket).toBe(true);
      expect((st.mode & 0o777).toString(8), socket).toBe('660');
      expect(st.gid, socket).toBe(process.getgid?.());
    }
  });

  it('answers every kind of bad input on the plugin socket with Err', async () => {
    const http = new UnixHttp(PLUGIN_SOCKET, { Accept: PLUGIN_MEDIA_TYPE });
    try {
      for (const c of pluginCases()) expectPluginErr(c, await http.request(c.method, c.path, c.body));
    } finally {
      http.close();
    }
  });

  it('answers every kind of bad input on the control socket with a 4xx and {error:{code,message,hint}}', async () => {
    const http = new UnixHttp(controlSocket, { Accept: 'application/json' });
    try {
      for (const c of controlCases()) expectControlError(c, await http.request(c.method, c.path, c.body));
    } finally {
      http.close();
    }
  });

  it('refuses names with "/", "..", NUL or 300 characters with a message about the name', async () => {
    for (const [kind, bad] of Object.entries(BAD_NAMES)) {
      const reply = (await plugin.create(bad)) as { Err?: string };
      expect(reply.Err, kind).toMatch(/name/i);
      await expect(client.createVolume({ name: bad }), kind).rejects.toMatchObject({ code: 'CONVOY_VOLUME_NAME_INVALID', status: 400 });
    }
    expect(await plugin.list()).toEqual({ Volumes: [] });
    expect(await client.listVolumes()).toEqual([]);
  });

  it("Docker shows the daemon's error for a name or option it refuses", async () => {
    const badName = await docker(['volume', 'create', '-d', 'convoy', 'a..b']);
    expect(badName.code).not.toBe(0);
    expect(badName.stderr).toMatch(/invalid volume name/);
    const badSize = await docker(['volume', 'create', '-d', 'convoy', '-o', 'size=lots', name('badsize')]);
    expect(badSize.code).not.toBe(0);
    expect(badSize.stderr).toMatch(/invalid size/);
    const badBackup = await docker([
      'volume',
      'create',
      '-d',
      'convoy',
      '-o',
      `backup=vfs://${join(tmp, 'nowhere')}?backup=x&volume=y`,
      name('badbackup'),
    ]);
    expect(badBackup.code).not.toBe(0);
    expect(badBackup.stderr).toMatch(/Error response from daemon/);
    expect(await client.listVolumes()).toEqual([]);
  });

  it('survives a body far over the limit on the plugin socket (answer or closed connection, then serves on)', async () => {
    const http = new UnixHttp(PLUGIN_SOCKET, { Accept: PLUGIN_MEDIA_TYPE });
    try {
      const huge = await http.request('POST', '/VolumeDriver.Create', Buffer.alloc(20 * MIB, 0x61));
      if (huge.status !== 0) expect(huge.status).toBe(413);
      else expect(huge.error).toMatch(/EPIPE|ECONNRESET/);
      const next = await http.request('POST', '/VolumeDriver.List', '{}\n');
      expect(next.json).toEqual({ Volumes: [] });
    } finally {
      http.close();
    }
  });

  it('keeps serving after 200 bad requests on each socket over kept-alive connections', async () => {
    const rounds = 200;
    const pc = pluginCases();
    const cc = controlCases();
    const pluginHttp = new UnixHttp(PLUGIN_SOCKET, { Accept: PLUGIN_MEDIA_TYPE });
    const controlHttp = new UnixHttp(controlSocket, { Accept: 'application/json' });
    let pluginReused = 0;
    let controlReused = 0;
    try {
      for (let i = 0; i < rounds; i++) {
        const p = pc[i % pc.length] as BadRequest;
        const pr = await pluginHttp.request(p.method, p.path, p.body);
        expectPluginErr(p, pr);
        if (pr.reused) pluginReused++;
        const c = cc[i % cc.length] as BadRequest;
        const cr = await controlHttp.request(c.method, c.path, c.body);
        expectControlError(c, cr);
        if (cr.reused) controlReused++;
      }
      // good requests on the same connections still work
      expect((await pluginHttp.request('POST', '/Plugin.Activate')).json).toEqual({ Implements: ['VolumeDriver'] });
      expect((await controlHttp.request('GET', '/v1/info')).status).toBe(200);
    } finally {
      pluginHttp.close();
      controlHttp.close();
    }
    // one connection each, kept alive through the errors (the first request opens it)
    expect(pluginReused).toBe(rounds - 1);
    expect(controlReused).toBe(rounds - 1);
    expect(daemon?.running).toBe(true);
    expect(daemon?.log).not.toMatch(/"level":(50|60)/); // nothing logged as an internal error
  });

  it('then a normal create, mount and docker run work, through Docker and through the control API', async () => {
    const viaDocker = name('after');
    volumes.push(viaDocker);
    expect(await dockerOk(['volume', 'create', '-d', 'convoy', viaDocker])).toBe(viaDocker);
    await runInVolume(viaDocker, 'echo fine > /data/f');
    expect(await runInVolume(viaDocker, 'cat /data/f')).toBe('fine');

    const viaApi = name('api');
    volumes.push(viaApi);
    await client.createVolume({ name: viaApi });
    const { mountpoint } = await client.mountVolume(viaApi);
    expect((await client.getVolume(viaApi)).mountedBy).toEqual(['cli']);
    await client.umountVolume(viaApi);
    expect(mountpoint).toBe((await client.getVolume(viaApi)).status?.path);
    await runInVolume(viaApi, 'echo fine > /data/f');
    expect(await runInVolume(viaApi, 'cat /data/f')).toBe('fine');
    expect(daemon?.running).toBe(true);
  });
});
