// kill -9 of convoy-daemon while a running container uses one of its volumes, then a restart on
// the same root and sockets: Docker's mount reference survives, the container keeps its data,
// and stop, rm and volume rm all work afterwards without leaking a mount.
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ControlClient } from '@convoy/control-api';
import { ConvoyDaemon } from './helpers/daemon.js';
import { cleanDocker, convoyVolumesInDocker, docker, dockerOk } from './helpers/docker.js';
import { CONTAINER_LABEL, IMAGE, PLUGIN_SOCKET, makeTempDir, nameFactory, removeDir } from './helpers/env.js';

const target = inject('convoyDocker');

describe.skipIf(!target.available)('kill -9 of convoy-daemon while a container uses a volume', () => {
  const name = nameFactory();
  const volume = name('busy');
  const container = name('sleeper');
  let tmp: string;
  let root: string;
  let daemon: ConvoyDaemon | undefined;
  let client: ControlClient;
  let mountIds: string[] = [];
  let dataDir = '';

  beforeAll(async () => {
    tmp = await makeTempDir('kill');
    root = join(tmp, 'root');
    daemon = await ConvoyDaemon.start({
      label: 'kill-restart',
      root,
      vfsPath: join(tmp, 'vfs'),
      socket: PLUGIN_SOCKET,
      controlSocket: join(tmp, 'control.sock'),
      hostId: 'e2e-kill',
    });
    client = new ControlClient({ socketPath: daemon.spec.controlSocket });
  });

  afterAll(async () => {
    if (daemon !== undefined && !daemon.running) await daemon.restart().catch(() => undefined); // Docker needs the plugin to let go
    const problems = daemon?.running === true ? await cleanDocker([volume]) : [];
    await client?.close();
    await daemon?.dispose();
    await removeDir(tmp);
    expect(problems).toEqual([]);
  });

  it('a detached container holds the volume mounted', async () => {
    await dockerOk(['volume', 'create', '-d', 'convoy', volume]);
    await dockerOk([
      'run',
      '-d',
      '--name',
      container,
      '--label',
      CONTAINER_LABEL,
      '--network',
      'none',
      '-v',
      `${volume}:/data`,
      IMAGE,
      'sh',
      '-c',
      'echo before > /data/before; exec sleep 1000',
    ]);
    const v = await client.getVolume(volume);
    dataDir = String(v.status?.path);
    mountIds = v.mountedBy;
    expect(mountIds).toHaveLength(1);
    expect(mountIds[0]).toMatch(/^[0-9a-f]{64}$/); // Docker's mount ID for the container
    expect(v.mountpoint).toBe(dataDir);
    await expect.poll(() => existsSync(join(dataDir, 'before'))).toBe(true);
  });

  it("after kill -9 and a restart, the daemon still knows Docker's mount and the container its data", async () => {
    const exit = await daemon?.kill9();
    expect(exit?.signal).toBe('SIGKILL');
    expect(lstatSync(PLUGIN_SOCKET).isSocket()).toBe(true); // a dead socket is left behind
    expect(await dockerOk(['inspect', '-f', '{{.State.Running}}', container])).toBe('true');

    await daemon?.restart();
    const v = await client.getVolume(volume);
    expect(v.mountedBy).toEqual(mountIds);
    expect(v.mountpoint).toBe(dataDir);
    expect((await client.info()).mounted).toEqual([volume]);

    await dockerOk(['exec', container, 'sh', '-c', 'cat /data/before > /data/after']);
    expect(readFileSync(join(dataDir, 'after'), 'utf8')).toBe('before\n');
  });

  it('docker volume ls lists the volume at once', async () => {
    const r = await docker(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`convoy ${volume}`);
    // A plugin Docker cannot reach costs retries and a warning on stderr; the restarted one answers.
    expect(r.stderr).toBe('');
    expect(await convoyVolumesInDocker()).toEqual([volume]);
  });

  it('docker stop and docker rm of the container work and release the mount', async () => {
    await dockerOk(['stop', '-t', '1', container]);
    await dockerOk(['rm', container]);
    const v = await client.getVolume(volume);
    expect(v.mountedBy).toEqual([]);
    expect(v.mountpoint).toBeUndefined();
    expect((await client.info()).mounted).toEqual([]);
    expect(readFileSync(join(dataDir, 'after'), 'utf8')).toBe('before\n');
  });

  it('docker volume rm works, and no mount reference is left anywhere', async () => {
    expect(await dockerOk(['volume', 'rm', volume])).toBe(volume);
    await expect(client.getVolume(volume)).rejects.toMatchObject({ status: 404 });
    expect(existsSync(dataDir)).toBe(false);
    expect(await convoyVolumesInDocker()).toEqual([]);
    expect((await client.info()).mounted).toEqual([]);
    // the durable mount references (kept for restarts) hold nothing either
    const refs = JSON.parse(readFileSync(join(root, 'manager', 'state', 'mounts.json'), 'utf8')) as Record<string, unknown>;
    expect(refs).toEqual({});
  });

  it('a second restart re-mounts nothing', async () => {
    await daemon?.stop();
    await daemon?.restart();
    expect((await client.info()).mounted).toEqual([]);
    expect(await client.listVolumes()).toEqual([]);
  });
});

// The harder case: the container is stopped and removed while the daemon is down, so Docker's
// Unmount never arrives (Docker retries for ~16 s, then gives up). After the restart the daemon
// still lists the dead container's mount ID; Docker's Remove must clear it, not refuse forever.
describe.skipIf(!target.available)('a container removed while convoy-daemon was down', () => {
  const name = nameFactory();
  const volume = name('lost');
  const container = name('gone');
  let tmp: string;
  let daemon: ConvoyDaemon | undefined;
  let client: ControlClient;

  beforeAll(async () => {
    tmp = await makeTempDir('lost-unmount');
    daemon = await ConvoyDaemon.start({
      label: 'lost-unmount',
      root: join(tmp, 'root'),
      vfsPath: join(tmp, 'vfs'),
      socket: PLUGIN_SOCKET,
      controlSocket: join(tmp, 'control.sock'),
      hostId: 'e2e-lost',
    });
    client = new ControlClient({ socketPath: daemon.spec.controlSocket });
  });

  afterAll(async () => {
    if (daemon !== undefined && !daemon.running) await daemon.restart().catch(() => undefined);
    const problems = daemon?.running === true ? await cleanDocker([volume]) : [];
    await client?.close();
    await daemon?.dispose();
    await removeDir(tmp);
    expect(problems).toEqual([]);
  });

  it('docker volume rm works after the restart, and leaves no mount reference', async () => {
    await dockerOk(['volume', 'create', '-d', 'convoy', volume]);
    await dockerOk([
      'run',
      '-d',
      '--name',
      container,
      '--label',
      CONTAINER_LABEL,
      '--network',
      'none',
      '-v',
      `${volume}:/data`,
      IMAGE,
      'sh',
      '-c',
      'exec sleep 1000',
    ]);
    const dataDir = String((await client.getVolume(volume)).status?.path);
    await daemon?.kill9();
    await docker(['stop', '-t', '1', container]); // Unmount fails: nobody answers on the socket
    await dockerOk(['rm', '-f', container]);
    await daemon?.restart();
    expect((await client.getVolume(volume)).mountedBy).toHaveLength(1); // the lost Unmount's ID

    expect(await dockerOk(['volume', 'rm', volume])).toBe(volume);
    await expect(client.getVolume(volume)).rejects.toMatchObject({ status: 404 });
    expect(existsSync(dataDir)).toBe(false);
    expect((await client.info()).mounted).toEqual([]);
  }, 120_000);
});
