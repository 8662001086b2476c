// Two convoy-daemons with different host ids over one shared vfs base path (as two hosts over one
// NFS share). Host A owns Docker's plugin socket; host B, whose "Docker" is a PluginClient on its
// own plugin socket, is also driven through its control socket. A volume created on A is seen by
// both; A cannot delete it while B has it mounted (the error names B); after B unmounts it can,
// and B then answers Docker for that volume with an error naming A and the time of deletion.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ControlClient } from '@convoy/control-api';
import { PluginClient } from '@convoy/plugin-protocol';
import { ConvoyDaemon, type DaemonSpec } from './helpers/daemon.js';
import { cleanDocker, convoyVolumesInDocker, docker, dockerOk, runInVolume } from './helpers/docker.js';
import { PLUGIN_SOCKET, makeTempDir, nameFactory, removeDir } from './helpers/env.js';

const target = inject('convoyDocker');

const HOST_A = 'e2e-host-a';
const HOST_B = 'e2e-host-b';
/** Docker's mount ID for a container on host B (any 64 hex characters). */
const B_CONTAINER = 'b'.repeat(64);

function isoTimeIn(message: string): Date {
  const m = /\b(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)\b/.exec(message);
  if (m?.[1] === undefined) throw new Error(`no ISO time in "${message}"`);
  return new Date(m[1]);
}

describe.skipIf(!target.available)('two hosts sharing one vfs base path', () => {
  const name = nameFactory();
  const volume = name('shared');
  let tmp: string;
  let shared: string;
  let specA: DaemonSpec;
  let a: ConvoyDaemon | undefined;
  let b: ConvoyDaemon | undefined;
  let clientA: ControlClient;
  let clientB: ControlClient;
  let pluginB: PluginClient;
  let mountpointB = '';
  let deletedAfter: Date;
  let deletedBefore: Date;

  beforeAll(async () => {
    tmp = await makeTempDir('multi');
    shared = join(tmp, 'shared');
    specA = {
      label: 'multi-host-a',
      root: join(tmp, 'root-a'),
      vfsPath: shared,
      socket: PLUGIN_SOCKET,
      controlSocket: join(tmp, 'a.sock'),
      hostId: HOST_A,
      args: ['--driver-opts', 'vfs.shared=true'], // one vfs.path, two hosts: Docker scope global
    };
    const specB: DaemonSpec = {
      label: 'multi-host-b',
      root: join(tmp, 'root-b'),
      vfsPath: shared,
      socket: join(tmp, 'b-plugin.sock'),
      controlSocket: join(tmp, 'b.sock'),
      hostId: HOST_B,
      args: ['--driver-opts', 'vfs.shared=true'],
    };
    a = await ConvoyDaemon.start(specA);
    b = await ConvoyDaemon.start(specB);
    clientA = new ControlClient({ socketPath: specA.controlSocket });
    clientB = new ControlClient({ socketPath: specB.controlSocket });
    pluginB = new PluginClient(specB.socket);
  });

  afterAll(async () => {
    // B lets go first, so A (Docker's plugin) can delete whatever is left
    if (b?.running === true) {
      await clientB.umountVolume(volume).catch(() => undefined);
      await pluginB.unmount(volume, B_CONTAINER).catch(() => undefined);
    }
    const problems = a?.running === true ? await cleanDocker([volume]) : [];
    pluginB?.close();
    await clientA?.close();
    await clientB?.close();
    await b?.dispose();
    await a?.dispose();
    await removeDir(tmp);
    expect(problems).toEqual([]);
  });

  it("only one daemon can own Docker's plugin socket", async () => {
    const third = await ConvoyDaemon.runToExit({
      ...specA,
      label: 'multi-host-intruder',
      root: join(tmp, 'root-c'),
      controlSocket: join(tmp, 'c.sock'),
      hostId: 'e2e-host-c',
    });
    expect(third.code).not.toBe(0);
    expect(third.stderr).toContain(`convoy-daemon: another server answers on ${PLUGIN_SOCKET}`);
    expect(third.stderr).toMatch(/^hint: stop the other convoy daemon first/m);
    expect(existsSync(join(tmp, 'c.sock'))).toBe(false);
    // A still owns it and still answers Docker
    expect(a?.running).toBe(true);
    const docker_ = new PluginClient(PLUGIN_SOCKET);
    try {
      expect(await docker_.activate()).toEqual({ Implements: ['VolumeDriver'] });
    } finally {
      docker_.close();
    }
    expect((await docker(['volume', 'ls'])).code).toBe(0);
  });

  it('a volume created through Docker on host A is listed by both hosts', async () => {
    await dockerOk(['volume', 'create', '-d', 'convoy', volume]);
    expect(await convoyVolumesInDocker()).toContain(volume);
    const onA = await clientA.getVolume(volume);
    expect(onA.status).toMatchObject({ createdBy: HOST_A });
    expect((await clientB.listVolumes()).map((v) => v.name)).toContain(volume);
    expect((await clientB.getVolume(volume)).uuid).toBe(onA.uuid);
    const listed = (await pluginB.list()) as { Volumes?: { Name: string }[] };
    expect(listed.Volumes?.map((v) => v.Name)).toContain(volume);
    expect(await pluginB.capabilities()).toEqual({ Capabilities: { Scope: 'global' } });
  });

  it('host B mounts it, through its control API and as Docker does (Mount with an ID)', async () => {
    mountpointB = (await clientB.mountVolume(volume)).mountpoint;
    const viaPlugin = (await pluginB.mount(volume, B_CONTAINER)) as { Mountpoint?: string; Err?: string };
    expect(viaPlugin.Err).toBeUndefined();
    expect(viaPlugin.Mountpoint).toBe(mountpointB);
    expect((await clientB.getVolume(volume)).mountedBy.sort()).toEqual([B_CONTAINER, 'cli'].sort());
    expect((await clientA.getVolume(volume)).mountedBy).toEqual([]); // mounts are per host

    // one directory for both hosts: what B writes, a container on A reads
    writeFileSync(join(mountpointB, 'from-b'), 'written on host B\n');
    expect(await runInVolume(volume, 'cat /data/from-b')).toBe('written on host B');
  });

  it('delete on host A fails while host B has it mounted, naming host B', async () => {
    const viaDocker = await docker(['volume', 'rm', volume]);
    expect(viaDocker.code).not.toBe(0);
    expect(viaDocker.stderr).toContain(HOST_B);
    await expect(clientA.deleteVolume(volume)).rejects.toMatchObject({
      code: 'CONVOY_VOLUME_IN_USE',
      status: 409,
      message: expect.stringContaining(HOST_B),
    });
    // nothing was removed on either host
    expect(await convoyVolumesInDocker()).toContain(volume);
    expect((await clientB.getVolume(volume)).mountedBy).toHaveLength(2);
    expect(readFileSync(join(mountpointB, 'from-b'), 'utf8')).toBe('written on host B\n');
  });

  it("one holder on host B is enough to keep the lease: delete still fails after B's CLI unmounts", async () => {
    await clientB.umountVolume(volume);
    expect((await clientB.getVolume(volume)).mountedBy).toEqual([B_CONTAINER]);
    await expect(clientA.deleteVolume(volume)).rejects.toMatchObject({
      code: 'CONVOY_VOLUME_IN_USE',
      message: expect.stringContaining(HOST_B),
    });
  });

  it('after host B unmounts, its Docker still knows the volume: delete on A needs --force, and names B', async () => {
    expect(await pluginB.unmount(volume, B_CONTAINER)).toEqual({});
    expect((await clientB.getVolume(volume)).mountedBy).toEqual([]);
    const viaDocker = await docker(['volume', 'rm', volume]);
    expect(viaDocker.code).not.toBe(0);
    expect(viaDocker.stderr).toContain(HOST_B);
    await expect(clientA.deleteVolume(volume)).rejects.toMatchObject({
      code: 'CONVOY_VOLUME_REFERENCED',
      status: 409,
      message: expect.stringContaining(HOST_B),
    });
    expect(existsSync(mountpointB)).toBe(true);

    deletedAfter = new Date(Date.now() - 1000);
    await clientA.deleteVolume(volume, { force: true });
    deletedBefore = new Date(Date.now() + 1000);
    expect(existsSync(mountpointB)).toBe(false);
    // A's Docker still has its record; the driver no longer knows the volume, so -f drops it
    expect(await dockerOk(['volume', 'rm', '-f', volume])).toBe(volume);
    expect(await convoyVolumesInDocker()).not.toContain(volume);
    expect((await clientA.listVolumes()).map((v) => v.name)).not.toContain(volume);
    expect((await clientB.listVolumes()).map((v) => v.name)).not.toContain(volume);
  });

  it("host B then answers Docker's Get and Mount for it with an error naming host A and the time", async () => {
    for (const reply of [await pluginB.get(volume), await pluginB.mount(volume, 'c'.repeat(64))]) {
      const err = (reply as { Err?: string }).Err ?? '';
      expect(err).toContain(volume);
      expect(err).toContain(HOST_A);
      const at = isoTimeIn(err);
      expect(at.getTime()).toBeGreaterThanOrEqual(deletedAfter.getTime());
      expect(at.getTime()).toBeLessThanOrEqual(deletedBefore.getTime());
    }
    await expect(clientB.getVolume(volume)).rejects.toMatchObject({
      code: 'CONVOY_VOLUME_DELETED',
      status: 404,
      message: expect.stringContaining(HOST_A),
    });
    // Docker on B dropping its stale reference is not an error
    expect(await pluginB.remove(volume)).toEqual({});
  });
});
