import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '@convoy/objectstore/testing';
import { DevmapperDriver, LibDmApi } from './index.js';
import { MiB, fakeEnv, random, readAll, writeAt, type FakeEnv } from './testing/fake-env.js';

let env: FakeEnv;
beforeEach(async () => {
  env = await fakeEnv();
});
afterEach(async () => {
  await env.dispose();
});

describe('DevmapperDriver on the fake kernel', () => {
  it('builds a pool on sparse loop files under the root, and reports its usage', async () => {
    const d = await env.start();
    const st = await d.status();
    expect(st).toMatchObject({
      name: 'convoy-pool',
      blockSize: 2 * MiB,
      loopFiles: true,
      dataUsedBlocks: 0,
      dataTotalBlocks: 128,
      volumes: 0,
      snapshots: 0,
      mode: 'rw',
    });
    expect(st.dataTotalBytes).toBe(256 * MiB);
    const data = await fs.stat(path.join(env.dir, 'root', 'data'));
    expect(data.size).toBe(256 * MiB);
    expect(data.blocks * 512).toBeLessThan(MiB); // sparse
    expect(env.kernel.devices.get('convoy-pool')?.live?.[0]?.params).toMatch(/^7:\d+ 7:\d+ 4096 1 0$/);
  });

  it('creates, formats on first mount only, mounts, unmounts and deletes volumes', async () => {
    const d = await env.start();
    const v = await d.create({ name: 'vol1', size: 10 * MiB + 1 });
    expect(v).toMatchObject({ name: 'vol1', size: 10 * MiB + 4096, fs: 'ext4', deviceId: 1, snapshots: [] });
    expect((await d.create({ name: 'vol2' })).size).toBe(32 * MiB); // dm.defaultvolumesize
    expect(await rejectionOf(d.create({ name: 'vol1' }))).toMatchObject({ code: 'CONVOY_VOLUME_EXISTS' });
    expect(await rejectionOf(d.create({ name: '../x' }))).toMatchObject({ code: 'CONVOY_VOLUME_NAME_INVALID' });

    const mp = await d.mount('vol1');
    expect(mp).toBe(path.join(env.dir, 'root', 'mounts', 'vol1'));
    expect(await d.mount('vol1')).toBe(mp); // idempotent
    expect(env.host.mkfsCalls).toBe(1);
    expect((await d.get('vol1'))?.mountpoint).toBe(mp);
    expect(await rejectionOf(d.remove('vol1'))).toMatchObject({ code: 'CONVOY_VOLUME_IN_USE' });
    expect(await rejectionOf(d.mount('vol1', { mountpoint: path.join(env.dir, 'elsewhere') }))).toMatchObject({
      code: 'CONVOY_VOLUME_IN_USE',
    });
    await d.unmount('vol1');
    await d.unmount('vol1'); // idempotent
    expect(env.kernel.devices.has('convoy-pool-vol-1')).toBe(false); // deactivated
    const other = path.join(env.dir, 'other');
    expect(await d.mount('vol1', { mountpoint: other })).toBe(other);
    expect(env.host.mkfsCalls).toBe(1); // already formatted
    await d.unmount('vol1');

    await d.remove('vol1');
    await d.remove('vol2');
    expect(await d.list()).toEqual([]);
    expect(await rejectionOf(d.remove('vol1'))).toMatchObject({ code: 'CONVOY_VOLUME_NOT_FOUND' });
    expect(await d.poolDeviceIds()).toEqual([]);
  });

  it('snapshots a mounted volume with its device suspended around create_snap, and keeps the snapshot content', async () => {
    const d = await env.start();
    await d.create({ name: 'v', size: 8 * MiB });
    await d.mount('v');
    const dev = env.dm.devicePath('convoy-pool-vol-1');
    const before = random(MiB);
    await writeAt(dev, 3 * MiB, before);
    // the fake refuses create_snap of an active origin that is not suspended
    const s = await d.snapshotCreate('v', 's1');
    expect(s).toMatchObject({ name: 's1', volume: 'v', size: 8 * MiB, deviceId: 2, backups: {} });
    expect(env.kernel.devices.get('convoy-pool-vol-1')?.suspended).toBe(false);
    await writeAt(dev, 3 * MiB, random(MiB));
    expect(await rejectionOf(d.snapshotCreate('v', 's1'))).toMatchObject({ code: 'CONVOY_SNAPSHOT_EXISTS' });
    expect(await rejectionOf(d.snapshotCreate('nope', 's1'))).toMatchObject({ code: 'CONVOY_VOLUME_NOT_FOUND' });

    const src = await d.backupSource('v', 's1');
    expect(src.changed).toBeUndefined();
    expect(await src.source.read(3 * MiB, MiB)).toEqual(before);
    expect(await rejectionOf(d.snapshotDelete('v', 's1'))).toMatchObject({ code: 'CONVOY_SNAPSHOT_IN_USE' });
    await src.source.close();
    await src.source.close();
    expect(env.kernel.devices.has('convoy-pool-snap-2')).toBe(false);

    expect((await d.snapshotList('v')).map((x) => x.name)).toEqual(['s1']);
    expect(await rejectionOf(d.remove('v'))).toMatchObject({
      code: 'CONVOY_VOLUME_IN_USE',
      message: expect.stringContaining('has snapshots (s1)'),
    });
    // a volume made from the snapshot: a thin snapshot of it (its content, its size, already formatted)
    const clone = await d.create({ name: 'clone', fromSnapshot: { volume: 'v', snapshot: 's1' } });
    expect(clone).toMatchObject({ name: 'clone', size: 8 * MiB, deviceId: 3 });
    expect(await rejectionOf(d.create({ name: 'c2', size: 4 * MiB, fromSnapshot: { volume: 'v', snapshot: 's1' } }))).toMatchObject({
      code: 'CONVOY_INVALID_ARGUMENT',
    });
    expect(await rejectionOf(d.create({ name: 'c2', fromSnapshot: { volume: 'v', snapshot: 'nope' } }))).toMatchObject({
      code: 'CONVOY_SNAPSHOT_NOT_FOUND',
    });
    await d.mount('clone');
    expect(env.host.mkfsCalls).toBe(1); // the snapshot's filesystem, not a new one
    const cloneDev = env.dm.devicePath('convoy-pool-vol-3');
    expect((await readAll(cloneDev, 4 * MiB)).subarray(3 * MiB)).toEqual(before);
    await d.unmount('clone');
    await d.remove('clone');
    await d.snapshotDelete('v', 's1');
    expect(await rejectionOf(d.snapshotDelete('v', 's1'))).toMatchObject({ code: 'CONVOY_SNAPSHOT_NOT_FOUND' });
    await d.unmount('v');
    await d.remove('v');
    expect((await d.status()).dataUsedBlocks).toBe(0);
  });

  it('finds every volume, snapshot and mount again after a restart (a new instance on the same root)', async () => {
    const d1 = await env.start();
    await d1.create({ name: 'a', size: 4 * MiB });
    await d1.create({ name: 'b', size: 6 * MiB });
    await d1.snapshotCreate('a', 'a1');
    await d1.snapshotCreate('a', 'a2');
    const mp = await d1.mount('b');
    const before = { volumes: await d1.list(), snaps: await d1.snapshotList('a') };
    await d1.stop();

    const d2 = await env.start();
    expect(d2.startReport).toMatchObject({
      settled: [],
      droppedRecords: [],
      orphansDeleted: [],
      devicesRemoved: [],
      mountsCleared: [],
      poolListed: true,
    });
    expect(await d2.list()).toEqual(before.volumes);
    expect(await d2.snapshotList('a')).toEqual(before.snaps);
    expect((await d2.get('b'))?.mountpoint).toBe(mp);
    // ids keep counting: a new volume does not reuse one
    expect((await d2.create({ name: 'c', size: MiB })).deviceId).toBe(5);
    // a mount that vanished while the daemon was down is forgotten
    await env.host.unmount(mp);
    const d3 = await env.start();
    expect(d3.startReport.mountsCleared).toEqual(['b']);
    expect((await d3.get('b'))?.mountpoint).toBeUndefined();
  });

  it('fails to start without device-mapper, saying what to do', async () => {
    env.kernel.available = false;
    const err = await rejectionOf(env.start());
    expect(err).toMatchObject({ code: 'CONVOY_DM_UNAVAILABLE' });
    expect((err as { hint: string }).hint).toMatch(/modprobe dm_thin_pool.*--drivers vfs/);
  });

  it('through libdevmapper, fails the same way where the kernel has no device-mapper (this host), or answers', async () => {
    if (existsSync('/dev/mapper/control')) {
      expect(await (await LibDmApi.open()).version()).toMatch(/^4\./);
      return;
    }
    expect(await rejectionOf(LibDmApi.open())).toMatchObject({
      code: 'CONVOY_DM_UNAVAILABLE',
      hint: expect.stringContaining('modprobe dm_thin_pool'),
    });
    expect(await rejectionOf(DevmapperDriver.start({ root: path.join(env.dir, 'real') }))).toMatchObject({ code: 'CONVOY_DM_UNAVAILABLE' });
  });

  it('refuses a metadata device that holds something else, or a pool its state file does not describe', async () => {
    const meta = path.join(env.dir, 'meta.img');
    const data = path.join(env.dir, 'data.img');
    await fs.writeFile(meta, Buffer.alloc(MiB, 1));
    await fs.writeFile(data, '');
    await fs.truncate(data, 64 * MiB);
    const devs = { dataDevice: data, metadataDevice: meta, root: path.join(env.dir, 'r1') };
    expect(await rejectionOf(env.start(devs))).toMatchObject({
      code: 'CONVOY_POOL_METADATA_FOREIGN',
      hint: expect.stringContaining('dd if=/dev/zero'),
    });
    await fs.writeFile(meta, Buffer.alloc(MiB));
    const d = await env.start(devs);
    expect((await d.status()).loopFiles).toBe(false);
    await d.destroyPool();
    expect(await rejectionOf(env.start({ ...devs, root: path.join(env.dir, 'r2') }))).toMatchObject({ code: 'CONVOY_POOL_UNKNOWN' });
    expect(await rejectionOf(env.start({ ...devs, blockSize: 4 * MiB }))).toMatchObject({ code: 'CONVOY_POOL_MISMATCH' });
    const again = await env.start(devs); // the same root reopens its pool
    expect(await again.list()).toEqual([]);
  });

  it('refuses to delete a pool that still has volumes, and keeps a volume whose delete failed', async () => {
    const d = await env.start();
    await d.create({ name: 'v', size: MiB });
    expect(await rejectionOf(d.destroyPool())).toMatchObject({ code: 'CONVOY_VOLUME_IN_USE' });
    const dev = await d.activate('v');
    const fh = await fs.open(dev, 'r');
    // something outside the driver holds the device open: removal fails with EBUSY, the volume stays
    const dmDev = env.kernel.devices.get('convoy-pool-vol-1');
    if (dmDev !== undefined) dmDev.openCount++;
    expect(await rejectionOf(d.remove('v'))).toMatchObject({ code: 'CONVOY_DM_FAILED', errno: 'EBUSY' });
    expect((await d.get('v'))?.name).toBe('v');
    if (dmDev !== undefined) dmDev.openCount--;
    await fh.close();
    expect((await readAll(dev, 16)).length).toBe(16);
    await d.deactivate('v');
    await d.remove('v');
    await d.destroyPool();
    expect(env.kernel.devices.size).toBe(0);
    expect(env.kernel.loops.size).toBe(0);
  });
});
