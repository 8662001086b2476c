// The daemon flags that change how Docker's requests are treated: --create-on-docker-mount and
// --ignore-docker-delete (Rancher Convoy's), against a real Docker engine.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ControlClient } from '@convoy/control-api';
import { PluginClient } from '@convoy/plugin-protocol';
import { ConvoyDaemon } from './helpers/daemon.js';
import { CONTAINER_LABEL, IMAGE, PLUGIN_SOCKET, makeTempDir, nameFactory, removeDir } from './helpers/env.js';
import { cleanDocker, convoyVolumesInDocker, dockerOk, runInVolume } from './helpers/docker.js';

const target = inject('convoyDocker');

interface Harness {
  tmp: string;
  daemon: ConvoyDaemon;
  client: ControlClient;
}

async function startHarness(label: string, args: string[]): Promise<Harness> {
  const tmp = await makeTempDir(label);
  const daemon = await ConvoyDaemon.start({
    label,
    root: join(tmp, 'root'),
    vfsPath: join(tmp, 'vfs'),
    socket: PLUGIN_SOCKET,
    controlSocket: join(tmp, 'control.sock'),
    hostId: `e2e-${label}`,
    args,
  });
  return { tmp, daemon, client: new ControlClient({ socketPath: daemon.spec.controlSocket }) };
}

async function stopHarness(h: Harness | undefined, volumes: string[]): Promise<string[]> {
  if (h === undefined) return [];
  // volumes the daemon keeps although Docker removed them: delete them for real first
  if (h.daemon.running)
    for (const v of await h.client.listVolumes().catch(() => []))
      await h.client.deleteVolume(v.name, { force: true }).catch(() => undefined);
  const problems = h.daemon.running ? await cleanDocker(volumes) : [];
  await h.client.close();
  await h.daemon.dispose();
  await removeDir(h.tmp);
  return problems;
}

describe.skipIf(!target.available)('convoy-daemon --create-on-docker-mount', () => {
  const name = nameFactory();
  const volumes: string[] = [];
  let h: Harness | undefined;

  beforeAll(async () => {
    h = await startHarness('create-on-mount', ['--create-on-docker-mount']);
  });

  afterAll(async () => {
    expect(await stopHarness(h, volumes)).toEqual([]);
  });

  it('docker run --volume-driver convoy -v NAME creates the volume on first use', async () => {
    const v = name('ondemand');
    volumes.push(v);
    await dockerOk([
      'run',
      '--rm',
      '--network',
      'none',
      '--label',
      CONTAINER_LABEL,
      '--volume-driver',
      'convoy',
      '-v',
      `${v}:/data`,
      IMAGE,
      'sh',
      '-c',
      'echo made > /data/f',
    ]);
    expect(await convoyVolumesInDocker()).toContain(v);
    const info = await h?.client.getVolume(v);
    expect(readFileSync(join(String(info?.status?.path), 'f'), 'utf8')).toBe('made\n');
    expect(await runInVolume(v, 'cat /data/f')).toBe('made');
  });

  it('a Mount for a volume that does not exist creates it (as Docker sends it, with an ID)', async () => {
    const v = name('mounted');
    volumes.push(v);
    const plugin = new PluginClient(PLUGIN_SOCKET);
    try {
      const id = 'd'.repeat(64);
      const reply = (await plugin.mount(v, id)) as { Mountpoint?: string; Err?: string };
      expect(reply.Err).toBeUndefined();
      expect(reply.Mountpoint).toMatch(/^\//);
      expect(existsSync(String(reply.Mountpoint))).toBe(true);
      expect((await h?.client.getVolume(v))?.mountedBy).toEqual([id]);
      expect(await plugin.unmount(v, id)).toEqual({});
      expect((await h?.client.getVolume(v))?.mountedBy).toEqual([]);
    } finally {
      plugin.close();
    }
  });
});

describe.skipIf(!target.available)('convoy-daemon --ignore-docker-delete', () => {
  const name = nameFactory();
  const volumes: string[] = [];
  let h: Harness | undefined;

  beforeAll(async () => {
    h = await startHarness('ignore-delete', ['--ignore-docker-delete']);
  });

  afterAll(async () => {
    expect(await stopHarness(h, volumes)).toEqual([]);
  });

  it('docker volume rm leaves the volume and its data to convoy', async () => {
    const v = name('kept');
    volumes.push(v);
    await dockerOk(['volume', 'create', '-d', 'convoy', v]);
    await runInVolume(v, 'echo kept > /data/f');
    const before = await h?.client.getVolume(v);
    expect(await dockerOk(['volume', 'rm', v])).toBe(v);
    const after = await h?.client.getVolume(v);
    expect(after?.uuid).toBe(before?.uuid);
    expect(readFileSync(join(String(after?.status?.path), 'f'), 'utf8')).toBe('kept\n');
    // and it is still there for Docker to use again
    expect(await runInVolume(v, 'cat /data/f')).toBe('kept');
  });
});
