// Adopting a Rancher Convoy v0.5.2 devicemapper root on the fake kernel: Convoy's records (its
// devicemapper.cfg and devicemapper_volume_<name>.json, in the shapes its Go code wrote) over a
// pool that holds those thin devices. The real binary's installation is adopted in the dm guest
// (test/guest/rancher-adopt.guest.test.ts).
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '@convoy/objectstore/testing';
import { MiB, fakeEnv, random, readAll, writeAt, type FakeEnv } from './testing/fake-env.js';

let env: FakeEnv;
let root: string;
beforeEach(async () => {
  env = await fakeEnv();
  root = path.join(env.dir, 'root');
});
afterEach(async () => {
  await env.dispose();
});

const TIME = 'Wed Dec 02 00:57:56 +0000 2026';

/**
 * A pool with Convoy's thin devices: volume vol1 (id 1, with data) and its snapshot snap1 (id 2),
 * volume ab (id 3); Convoy's records for them; vol1 and ab active under their own names, as
 * Convoy kept them. Made with this driver on block devices, whose state file is then removed.
 */
async function convoyInstallation(): Promise<{ data: Buffer; devices: { data: string; metadata: string } }> {
  await fs.mkdir(root, { recursive: true });
  const devices = {
    data: await env.host.attachLoop(await sparse(path.join(env.dir, 'data.img'), 256 * MiB)),
    metadata: await env.host.attachLoop(await sparse(path.join(env.dir, 'meta.img'), 16 * MiB)),
  };
  const d = await env.start({ dataDevice: devices.data, metadataDevice: devices.metadata });
  await d.create({ name: 'vol1', size: 16 * MiB });
  const data = random(3 * MiB);
  await writeAt(await d.activate('vol1'), MiB, data);
  await d.deactivate('vol1');
  await d.snapshotCreate('vol1', 'snap1');
  await d.create({ name: 'ab', size: 8 * MiB });
  await d.stop();
  await fs.rm(path.join(root, 'state.json'));
  await fs.writeFile(
    path.join(root, 'devicemapper.cfg'),
    JSON.stringify({
      Root: root,
      DataDevice: devices.data,
      MetadataDevice: devices.metadata,
      ThinpoolDevice: '/dev/mapper/convoy-pool',
      ThinpoolSize: 256 * MiB,
      ThinpoolBlockSize: 4096,
      DefaultVolumeSize: 100 * 1024 * MiB,
      LastDevID: 3,
      Filesystem: 'ext4',
    }) + '\n',
  );
  const volume = (name: string, id: number, size: number, snapshots: Record<string, unknown>): string =>
    JSON.stringify({
      Name: name,
      DevID: id,
      Size: size,
      Base: '',
      MountPoint: '',
      CreatedTime: TIME,
      Snapshots: snapshots,
      Filesystem: 'ext4',
    }) + '\n';
  await fs.writeFile(
    path.join(root, 'devicemapper_volume_vol1.json'),
    volume('vol1', 1, 16 * MiB, { snap1: { Name: 'snap1', CreatedTime: TIME, DevID: 2, Activated: false } }),
  );
  await fs.writeFile(path.join(root, 'devicemapper_volume_ab.json'), volume('ab', 3, 8 * MiB, {}));
  const pool = await env.dm.info('convoy-pool');
  for (const [name, id, size] of [
    ['vol1', 1, 16 * MiB],
    ['ab', 3, 8 * MiB],
  ] as const) {
    await env.dm.create(name);
    await env.dm.load(name, [{ start: 0, length: size / 512, type: 'thin', params: `${pool.major}:${pool.minor} ${id}` }]);
    await env.dm.resume(name);
  }
  return { data, devices };
}

async function sparse(file: string, size: number): Promise<string> {
  await fs.writeFile(file, '');
  await fs.truncate(file, size);
  return file;
}

describe('a Rancher Convoy v0.5.2 devicemapper root', () => {
  it('is adopted in place: its volumes, snapshots and device ids, with their data, and says so', async () => {
    const { data } = await convoyInstallation();
    const logs: string[] = [];
    const d = await env.start({ log: (_l, m) => logs.push(m) }); // no device options: Convoy's are used
    expect((await d.list()).map((v) => [v.name, v.deviceId, v.size, v.fs, v.createdAt])).toEqual([
      ['ab', 3, 8 * MiB, 'ext4', '2026-12-02T00:57:56.000Z'],
      ['vol1', 1, 16 * MiB, 'ext4', '2026-12-02T00:57:56.000Z'],
    ]);
    expect(await d.snapshotList('vol1')).toMatchObject([{ name: 'snap1', deviceId: 2, size: 16 * MiB }]);
    expect(logs.join('\n')).toMatch(
      /adopted Rancher Convoy v0\.5\.2's devicemapper pool in place .*volumes ab, vol1, 1 snapshot; no data copied/,
    );
    expect((await env.dm.info('vol1')).exists).toBe(false); // Convoy's device names are gone
    expect((await d.status()).adoptedFrom).toMatchObject({ from: 'rancher-convoy-v0.5.2', volumes: ['ab', 'vol1'], snapshots: 1 });
    expect((await readAll(await d.activate('vol1'), 4 * MiB)).subarray(MiB).equals(data)).toBe(true);
    await d.deactivate('vol1');
    expect((await d.create({ name: 'new' })).deviceId).toBe(4); // after Convoy's LastDevID
    await d.stop();
    const again = await env.start(); // from its own state.json now
    expect((await again.list()).map((v) => v.name)).toEqual(['ab', 'new', 'vol1']);
  });

  it('is refused, with nothing changed, while one of its volumes is in use', async () => {
    await convoyInstallation();
    env.kernel.devices.get('ab')!.openCount++; // mounted, or held by a container
    const err = await rejectionOf(env.start());
    expect(err).toMatchObject({ code: 'CONVOY_ADOPT_REFUSED', details: { device: 'ab' } });
    expect((err as Error).message).toContain('volume ab is in use');
    expect((await env.dm.info('vol1')).exists).toBe(true);
    await expect(fs.stat(path.join(root, 'state.json'))).rejects.toThrow();
  });

  it('is refused when the pool holds a thin device no record names, or a record names none', async () => {
    await convoyInstallation();
    await fs.rm(path.join(root, 'devicemapper_volume_ab.json'));
    expect(await rejectionOf(env.start())).toMatchObject({ code: 'CONVOY_ADOPT_REFUSED', details: { deviceIds: [3] } });
    await fs.writeFile(
      path.join(root, 'devicemapper_volume_ghost.json'),
      JSON.stringify({ Name: 'ghost', DevID: 3, Size: MiB, CreatedTime: TIME, Snapshots: {}, Filesystem: 'ext4' }),
    );
    await fs.writeFile(
      path.join(root, 'devicemapper_volume_lost.json'),
      JSON.stringify({ Name: 'lost', DevID: 9, Size: MiB, CreatedTime: TIME, Snapshots: null, Filesystem: '' }),
    );
    const err = await rejectionOf(env.start());
    expect(err).toMatchObject({ code: 'CONVOY_ADOPT_REFUSED' });
    expect((err as Error).message).toContain('volume lost has no thin device');
  });

  it('is refused when an option contradicts its pool, or a record is unreadable', async () => {
    await convoyInstallation();
    expect(await rejectionOf(env.start({ thinPoolName: 'other-pool' }))).toMatchObject({ code: 'CONVOY_ADOPT_REFUSED' });
    expect(await rejectionOf(env.start({ blockSize: 64 * 1024 }))).toMatchObject({ code: 'CONVOY_ADOPT_REFUSED' });
    await fs.writeFile(path.join(root, 'devicemapper_volume_ab.json'), '{"Name": "ab", ');
    const err = await rejectionOf(env.start());
    expect(err).toMatchObject({ code: 'CONVOY_ADOPT_REFUSED' });
    expect((err as Error).message).toContain('devicemapper_volume_ab.json');
  });
});
