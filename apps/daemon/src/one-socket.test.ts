// Rancher Convoy's one socket: --socket is the control socket and serves Docker's plugin protocol
// too (spec files name it); --plugin-socket is the one Docker finds by itself, or none. Also
// Convoy's daemon flags (--debug, --verbose, --log, --ignore-config-file, --cmd-timeout, --mnt-ns)
// and the rename of the config key `socket`.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PluginClient } from '@convoy/plugin-protocol';
import { parseArgs, parseDaemonArgs } from './args.js';
import { DEFAULTS, SAVED_CONFIG_FILE } from './config.js';
import { startDaemon, type RunningDaemon } from './daemon.js';
import { createLogger } from './logger.js';
import { readSavedConfig } from './saved-config.js';

let tmp: string;
const timers = { now: () => Date.now(), setTimeout: () => 0, clearTimeout: () => undefined };

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-one-socket-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

function get(socketPath: string, url: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method: 'GET', path: url }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) as unknown }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('one socket, as in Rancher Convoy', () => {
  let daemon: RunningDaemon | undefined;
  afterAll(async () => daemon?.close());

  it('--socket serves the control API and Docker’s protocol; --plugin-socket none makes no other socket', async () => {
    const dir = path.join(tmp, 'one');
    const socket = path.join(dir, 'convoy.sock');
    const config = await parseArgs(['--root', path.join(dir, 'root'), '--socket', socket, '--plugin-socket', 'none', '--host-id', 'h1']);
    expect(config).toMatchObject({ controlSocket: socket, pluginSocket: 'none' });
    daemon = await startDaemon(config, createLogger('silent'), { timers });
    expect((await fs.stat(socket)).mode & 0o777).toBe(0o660);
    expect(await fs.readdir(dir)).toEqual(['convoy.sock', 'root']);

    // Docker, through a spec file naming this socket
    const docker = new PluginClient(socket);
    expect(await docker.activate()).toEqual({ Implements: ['VolumeDriver'] });
    expect(await docker.create('spec1', { bakup: 'x' })).toMatchObject({ Err: expect.stringMatching(/bakup/) });
    expect(await docker.create('spec1', null)).toEqual({});
    const mounted = (await docker.mount('spec1', 'container-1')) as { Mountpoint?: string };
    await fs.writeFile(path.join(mounted.Mountpoint ?? '/nonexistent', 'f'), 'from docker');
    expect(((await docker.list()) as { Volumes: { Name: string }[] }).Volumes.map((v) => v.Name)).toEqual(['spec1']);
    // an unknown plugin call is the plugin protocol's error, not the control API's
    expect(await docker.raw('/VolumeDriver.Nope', '{}')).toMatchObject({ status: 404, body: { Err: expect.stringMatching(/Nope/) } });
    // what only looks like one (another method, more path) is the control API's, with its JSON errors
    expect(await get(socket, '/Plugin.Activate')).toMatchObject({ status: 404, json: { error: { code: 'CONVOY_UNKNOWN_ROUTE' } } });
    expect(await get(socket, '/VolumeDriver.Get/x')).toMatchObject({ status: 404, json: { error: { code: 'CONVOY_UNKNOWN_ROUTE' } } });

    // info's general section (Convoy's "General") says how the daemon was started
    expect((await get(socket, '/v1/info')).json).toMatchObject({
      general: {
        root: path.join(dir, 'root'),
        drivers: ['vfs'],
        defaultDriver: 'vfs',
        socket,
        pluginSocket: 'none',
        ignoreDockerDelete: false,
      },
    });
    // the convoy CLI, on the same socket, sees what Docker made
    const listed = await get(socket, '/v1/volumes');
    expect(listed.status).toBe(200);
    expect(listed.json).toMatchObject({ volumes: [{ name: 'spec1', mountpoint: mounted.Mountpoint }] });
    expect(await docker.unmount('spec1', 'container-1')).toEqual({});
    expect(await docker.remove('spec1')).toEqual({});
    expect((await get(socket, '/v1/volumes')).json).toMatchObject({ volumes: [] });
    docker.close();

    await daemon.close();
    daemon = undefined;
    expect(existsSync(socket)).toBe(false);
  });

  it('the same path for both sockets is refused with a hint', async () => {
    const s = path.join(tmp, 'same.sock');
    await expect(parseArgs(['--socket', s, '--plugin-socket', s])).rejects.toMatchObject({
      code: 'CONVOY_CONFIG_INVALID',
      hint: expect.stringMatching(/--plugin-socket none/),
    });
  });
});

describe("Convoy's daemon flags", () => {
  it('-s and --control-socket are --socket; the plugin socket keeps its default', async () => {
    expect(await parseArgs(['-s', '/run/a.sock'])).toMatchObject({ controlSocket: '/run/a.sock', pluginSocket: DEFAULTS.pluginSocket });
    expect(await parseArgs(['--control-socket', '/run/b.sock'])).toMatchObject({ controlSocket: '/run/b.sock' });
    expect(DEFAULTS.controlSocket).toBe('/var/run/convoy/convoy.sock');
  });

  it('--debug and --verbose log at debug level; --log-level still wins; --log names the file', async () => {
    expect((await parseArgs(['--debug'])).logLevel).toBe('debug');
    expect((await parseArgs(['-d'])).logLevel).toBe('debug');
    expect((await parseArgs(['--verbose'])).logLevel).toBe('debug');
    expect((await parseArgs(['--debug', '--log-level', 'warn'])).logLevel).toBe('warn');
    expect((await parseArgs(['--log', '/var/log/convoy.log'])).logFile).toBe('/var/log/convoy.log');
    await expect(parseArgs(['--log', 'convoy.log'])).rejects.toThrow(/logFile must be an absolute path/);
  });

  it('--ignore-config-file is --reconfigure; --cmd-timeout is taken and reported as without effect; --mnt-ns is refused', async () => {
    expect((await parseDaemonArgs(['--ignore-config-file'])).reconfigure).toBe(true);
    expect((await parseDaemonArgs(['--cmd-timeout', '5m'])).warnings).toEqual([
      "--cmd-timeout: Rancher Convoy's flag, taken but without effect here",
    ]);
    expect((await parseDaemonArgs([])).warnings).toEqual([]);
    await expect(parseArgs(['--mnt-ns', '/proc/1/ns/mnt'])).rejects.toMatchObject({
      code: 'CONVOY_CONFIG_INVALID',
      message: expect.stringMatching(/--mnt-ns is not supported/),
      hint: expect.stringMatching(/nsenter/),
    });
  });
});

describe('the config key "socket"', () => {
  it('in a config file it is what it was (the plugin socket), with a warning; with pluginSocket too it is refused', async () => {
    const file = path.join(tmp, 'convoy.json');
    await fs.writeFile(file, JSON.stringify({ socket: '/run/docker/plugins/old.sock' }));
    const old = await parseDaemonArgs(['--config', file]);
    expect(old.config).toMatchObject({ pluginSocket: '/run/docker/plugins/old.sock', controlSocket: DEFAULTS.controlSocket });
    expect(old.warnings).toEqual([`${file}: "socket" is the old name of "pluginSocket" (read as that); rename it`]);
    await fs.writeFile(file, JSON.stringify({ socket: '/run/a.sock', pluginSocket: '/run/b.sock' }));
    await expect(parseArgs(['--config', file])).rejects.toMatchObject({
      code: 'CONVOY_CONFIG_INVALID',
      message: expect.stringMatching(/both "socket" and "pluginSocket"/),
    });
    await fs.writeFile(file, JSON.stringify({ controlSocket: '/run/c.sock', pluginSocket: 'none' }));
    expect(await parseArgs(['--config', file])).toMatchObject({ controlSocket: '/run/c.sock', pluginSocket: 'none' });
  });

  it('in a configuration saved by an earlier version it was the plugin socket, and still is', async () => {
    const file = path.join(tmp, 'legacy', SAVED_CONFIG_FILE);
    await fs.mkdir(path.dirname(file));
    const config = { ...DEFAULTS, driverOpts: { 'vfs.path': '/srv/vfs' } } as Record<string, unknown>;
    delete config.pluginSocket;
    config.socket = '/run/docker/plugins/old.sock';
    await fs.writeFile(file, JSON.stringify({ version: 1, savedAt: '2026-11-01T00:00:00Z', config }));
    expect(await readSavedConfig(file)).toMatchObject({
      pluginSocket: '/run/docker/plugins/old.sock',
      controlSocket: DEFAULTS.controlSocket,
    });
    // both keys: the new one is what counts, and the schema names the stray one
    await fs.writeFile(file, JSON.stringify({ version: 1, savedAt: 'x', config: { ...config, pluginSocket: '/run/p.sock' } }));
    await expect(readSavedConfig(file)).rejects.toMatchObject({ code: 'CONVOY_STATE_INVALID', message: expect.stringMatching(/socket/) });
  });
});
