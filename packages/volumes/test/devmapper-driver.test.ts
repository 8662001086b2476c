import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeDevmapper, type FakeDevmapper } from '@convoy/devmapper/testing';
import { rejectionOf } from '@convoy/objectstore/testing';
import { VfsDriver } from '@convoy/vfs';
import { DevmapperVolumeDriver } from '@convoy/devmapper';
import { VolumeManager } from '../src/index.js';

const MiB = 1024 * 1024;
let tmp: string;
let fake: FakeDevmapper;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-mgr-dm-'));
  fake = await createFakeDevmapper();
});
afterEach(async () => {
  await fake.cleanup();
  await fs.rm(tmp, { recursive: true, force: true });
});

const dm = (): DevmapperVolumeDriver =>
  new DevmapperVolumeDriver({
    root: path.join(tmp, 'dm'),
    dm: fake.dm,
    host: fake.host,
    loopDataSize: 256 * MiB,
    loopMetadataSize: 16 * MiB,
    defaultVolumeSize: 32 * MiB,
  });

describe('the devicemapper driver behind the manager (fake device-mapper)', () => {
  it('creates sized thin volumes, mounts them, snapshots them, and finds them again after a restart', async () => {
    const m = await VolumeManager.open({ root: path.join(tmp, 'root'), drivers: [dm()] });
    const v = await m.create({ name: 'thin1', caller: 'cli', size: '64M' });
    expect(v).toMatchObject({ name: 'thin1', driver: 'devicemapper', size: 64 * MiB });
    const mp = await m.mount('thin1', { id: 'cli', caller: 'cli' });
    expect(mp).toBeTruthy();
    const s = await m.snapshotCreate('thin1', 'thin1-s1');
    expect(s.volume).toBe('thin1');
    await m.close();
    const again = await VolumeManager.open({ root: path.join(tmp, 'root'), drivers: [dm()] });
    expect((await again.list()).volumes.map((x) => x.name)).toEqual(['thin1']);
    expect((await again.snapshotList('thin1')).snapshots.map((x) => x.name)).toEqual(['thin1-s1']);
    expect((await rejectionOf(again.remove('thin1', { caller: 'cli', keepData: true }))).code).toBe('CONVOY_VOLUME_IN_USE');
  });

  it('a daemon without device-mapper still serves its other drivers, and says why devicemapper is off', async () => {
    const seen: string[] = [];
    const m = await VolumeManager.open({
      root: path.join(tmp, 'root2'),
      drivers: [
        new DevmapperVolumeDriver({ root: path.join(tmp, 'real-dm') }),
        new VfsDriver({ basePath: path.join(tmp, 'vfs'), hostId: 'h' }),
      ],
      onDriverUnavailable: (name) => seen.push(name),
    });
    expect(seen).toEqual(['devicemapper']);
    expect(m.defaultDriver).toBe('vfs');
    const info = (await m.info()) as { unavailable: Record<string, { code?: string; hint?: string }> };
    expect(info.unavailable.devicemapper).toMatchObject({
      code: 'CONVOY_DM_UNAVAILABLE',
      hint: expect.stringMatching(/modprobe dm_thin_pool|--drivers vfs/),
    });
    await m.create({ name: 'plain', caller: 'cli' });
    expect((await rejectionOf(m.create({ name: 'x', caller: 'cli', driver: 'devicemapper' }))).message).toMatch(/unknown driver/);
  });

  it('a volume restored without --driver gets the driver that made the backup, whatever the default', async () => {
    const m = await VolumeManager.open({
      root: path.join(tmp, 'root3'),
      drivers: [new VfsDriver({ basePath: path.join(tmp, 'vfs3'), hostId: 'h' }), dm()],
      defaultDriver: 'vfs',
    });
    const store = `vfs://${path.join(tmp, 'store')}`;
    await m.create({ name: 'thin', caller: 'cli', driver: 'devicemapper', size: '8M' });
    await m.snapshotCreate('thin', 'thin-s');
    const thinUrl = (await m.backupCreate('thin-s', store)).url;
    await m.create({ name: 'dir', caller: 'cli' });
    await m.snapshotCreate('dir', 'dir-s');
    const dirUrl = (await m.backupCreate('dir-s', store)).url;
    expect((await m.create({ name: 'thin-copy', caller: 'cli', backup: thinUrl })).driver).toBe('devicemapper');
    expect((await m.create({ name: 'dir-copy', caller: 'cli', backup: dirUrl })).driver).toBe('vfs');
    // named, the driver is the one named (and refuses what it cannot restore, saying why)
    expect((await rejectionOf(m.create({ name: 'bad', caller: 'cli', backup: thinUrl, driver: 'vfs' }))).code).toMatch(/^CONVOY_/);
    await m.close();
  });
});
