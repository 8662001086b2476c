// End to end with a real Docker engine: Docker creates, mounts and removes convoy volumes; the
// convoy CLI snapshots and backs them up; a backup URL becomes a new volume through Docker
// (`-o backup=URL`) and through the CLI (`convoy create --backup URL`).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ControlClient } from '@convoy/control-api';
import { convoy, convoyOk } from './helpers/cli.js';
import { ConvoyDaemon } from './helpers/daemon.js';
import { cleanDocker, convoyVolumesInDocker, dockerOk, inspectVolume, runInVolume } from './helpers/docker.js';
import { CONTAINER_LABEL, IMAGE, PLUGIN_SOCKET, makeTempDir, nameFactory, removeDir } from './helpers/env.js';

const target = inject('convoyDocker');

describe.skipIf(!target.available)('Docker volumes, snapshots and backups through convoy-daemon', () => {
  const name = nameFactory();
  const v1 = name('v1');
  const v2 = name('v2');
  const v3 = name('v3');
  let tmp: string;
  let daemon: ConvoyDaemon | undefined;
  let client: ControlClient;
  let controlSocket: string;
  let snapshot = '';
  let backupUrl = '';

  beforeAll(async () => {
    tmp = await makeTempDir('volumes');
    controlSocket = join(tmp, 'control.sock');
    daemon = await ConvoyDaemon.start({
      label: 'volumes',
      root: join(tmp, 'root'),
      vfsPath: join(tmp, 'vfs'),
      socket: PLUGIN_SOCKET,
      controlSocket,
      hostId: 'e2e-volumes',
    });
    client = new ControlClient({ socketPath: controlSocket });
  });

  afterAll(async () => {
    const problems = daemon?.running === true ? await cleanDocker([v1, v2, v3]) : [];
    await client?.close();
    await daemon?.dispose();
    await removeDir(tmp);
    expect(problems).toEqual([]);
  });

  it('docker volume create -d convoy makes a volume that docker volume ls and inspect show', async () => {
    expect(await dockerOk(['volume', 'create', '-d', 'convoy', v1])).toBe(v1);
    expect(await convoyVolumesInDocker()).toContain(v1);
    const inspected = await inspectVolume(v1);
    const volume = await client.getVolume(v1);
    expect(inspected).toMatchObject({ Name: v1, Driver: 'convoy', Scope: 'local' }); // vfs.shared not set
    expect(inspected.Status).toMatchObject({ uuid: volume.uuid, driver: 'vfs', createdBy: 'e2e-volumes' });
    expect(volume.mountedBy).toEqual([]);
  });

  it('a container writes a file into it (docker run -v)', async () => {
    await runInVolume(v1, 'echo hello > /data/f');
    const volume = await client.getVolume(v1);
    expect(volume.mountedBy).toEqual([]); // the container is gone: Docker unmounted
    expect(await runInVolume(v1, 'cat /data/f')).toBe('hello');
  });

  it('convoy snapshot create prints the snapshot; convoy backup create prints the backup URL', async () => {
    snapshot = await convoyOk(controlSocket, ['snapshot', 'create', v1]);
    expect(snapshot).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]+$/);
    expect((await client.listSnapshots(v1)).map((s) => s.name)).toEqual([snapshot]);

    const dest = `vfs://${join(tmp, 'bk')}`;
    backupUrl = await convoyOk(controlSocket, ['backup', 'create', snapshot, '--dest', dest]);
    expect(backupUrl.startsWith(`${dest}?`)).toBe(true);
    const url = new URL(backupUrl);
    expect(url.searchParams.get('volume')).toBe(v1);
    expect(url.searchParams.get('backup')).toMatch(/\S/);
    expect((await client.listBackups(dest, v1)).map((b) => b.url)).toEqual([backupUrl]);
  });

  it('docker volume create -o backup=URL restores the file', async () => {
    expect(await dockerOk(['volume', 'create', '-d', 'convoy', '-o', `backup=${backupUrl}`, v2])).toBe(v2);
    expect(await runInVolume(v2, 'cat /data/f')).toBe('hello');
    expect((await client.getVolume(v2)).uuid).not.toBe((await client.getVolume(v1)).uuid);
  });

  it('convoy create --backup URL restores the file, and Docker finds that volume by name', async () => {
    expect(await convoyOk(controlSocket, ['create', v3, '--backup', backupUrl])).toContain(v3);
    expect(await runInVolume(v3, 'cat /data/f')).toBe('hello');
    expect(await convoyVolumesInDocker()).toEqual(expect.arrayContaining([v1, v2, v3]));
  });

  it('the restored volumes are independent of the original', async () => {
    await runInVolume(v2, 'echo changed > /data/f');
    expect(await runInVolume(v1, 'cat /data/f')).toBe('hello');
    expect(await runInVolume(v3, 'cat /data/f')).toBe('hello');
  });

  it('two containers share a volume; it stays mounted until the last one stops', async () => {
    const run = (c: string): Promise<string> =>
      dockerOk(['run', '-d', '--name', c, '--label', CONTAINER_LABEL, '--network', 'none', '-v', `${v2}:/data`, IMAGE, 'sleep', '1000']);
    const first = name('c1');
    const second = name('c2');
    await run(first);
    await run(second);
    const held = (await client.getVolume(v2)).mountedBy;
    expect(held).toHaveLength(2);
    expect(await dockerOk(['volume', 'rm', v2]).catch((err: Error) => err.message)).toMatch(/in use/);

    await dockerOk(['rm', '-f', first]);
    const left = await client.getVolume(v2);
    expect(left.mountedBy).toHaveLength(1);
    expect(held).toContain(left.mountedBy[0]);
    expect(left.mountpoint).toBe(left.status?.path);
    expect(await dockerOk(['exec', second, 'cat', '/data/f'])).toBe('changed');

    await dockerOk(['rm', '-f', second]);
    const free = await client.getVolume(v2);
    expect(free.mountedBy).toEqual([]);
    expect(free.mountpoint).toBeUndefined();
  });

  it('docker volume rm removes the data; re-creating the name starts empty', async () => {
    const old = await client.getVolume(v1);
    const dataDir = String(old.status?.path);
    expect(existsSync(join(dataDir, 'f'))).toBe(true);

    expect(await dockerOk(['volume', 'rm', v1])).toBe(v1);
    expect(existsSync(dataDir)).toBe(false);
    expect(await convoyVolumesInDocker()).not.toContain(v1);
    await expect(client.getVolume(v1)).rejects.toMatchObject({ status: 404 });
    expect((await convoy(controlSocket, ['inspect', v1])).code).not.toBe(0);

    expect(await dockerOk(['volume', 'create', '-d', 'convoy', v1])).toBe(v1);
    const fresh = await client.getVolume(v1);
    expect(fresh.uuid).not.toBe(old.uuid);
    expect(await runInVolume(v1, 'ls -A /data')).toBe('');
    // the snapshot went with the old volume; the backup stays in the store
    expect(await client.listSnapshots(v1)).toEqual([]);
    expect((await client.inspectBackup(backupUrl)).volume).toBe(v1);
  });
});
