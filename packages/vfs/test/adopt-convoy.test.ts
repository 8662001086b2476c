// A vfs.path the original Rancher Convoy v0.5.2 binary used (its volumes in <path>/<name>/, its
// records in <path>/config/vfs_volume_<name>.json): the driver started on it adopts the volumes
// in place, without copying, and they live on as ours — list, mount (the files read back intact),
// write, snapshot, back up, roll back, delete. A restart adopts nothing twice; Convoy's records
// are left as they were; a Convoy volume named as one of our directories stops the start.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreDirectory } from '@convoy/dirbackup';
import { FsObjectStore } from '@convoy/objectstore';
import { rejectionOf } from '@convoy/objectstore/testing';
import { makeRancherStore, readTree, type RancherStore, type TreeEntry } from '../../../tools/vitest/rancher-convoy.js';
import { VfsDriver } from '../src/index.js';

let tmp: string;
let rs: RancherStore;
let vfsPath: string;
const before = new Map<string, TreeEntry[]>();
let configs: Map<string, Buffer>;

/** Every file under <vfs.path>/config, Convoy's records, by name. */
async function convoyConfigs(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await fs.readdir(path.join(vfsPath, 'config'))) out.set(e, await fs.readFile(path.join(vfsPath, 'config', e)));
  return out;
}

const driver = async (host = 'h1'): Promise<VfsDriver> => {
  const d = new VfsDriver({ basePath: vfsPath, hostId: host });
  await d.start();
  return d;
};

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-vfs-adopt-'));
  const work = path.join(tmp, 'convoy-go');
  await fs.mkdir(work);
  rs = await makeRancherStore(work, ['vol1', 'ab']);
  vfsPath = path.join(work, 'vols');
  for (const v of rs.volumes) before.set(v.name, await readTree(v.dir));
  await fs.mkdir(path.join(vfsPath, 'not-a-volume'));
  await fs.writeFile(path.join(vfsPath, 'not-a-volume', 'keep'), 'mine');
  configs = await convoyConfigs();
  expect([...configs.keys()]).toEqual(expect.arrayContaining(['vfs_volume_vol1.json', 'vfs_volume_ab.json']));
}, 120_000);
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('a Rancher Convoy v0.5.2 vfs.path, adopted in place', () => {
  it('lists Convoy’s volumes, mounts one in its own directory with its files intact, writes, snapshots, backs up and restores', async () => {
    const ino = (await fs.stat(path.join(vfsPath, 'vol1'))).ino;
    const d = await driver();
    const list = await d.list();
    expect(list.map((v) => v.name)).toEqual(['ab', 'vol1']);
    expect(list.find((v) => v.name === 'vol1')).toMatchObject({
      driver: 'vfs',
      status: { path: path.join(vfsPath, 'vol1'), adoptedFrom: 'rancher-convoy-v0.5.2' },
    });
    expect(await d.info()).toMatchObject({ rancherConvoyAtStart: { adopted: ['ab', 'vol1'], skipped: [] } });

    const mp = await d.mount('vol1');
    expect(mp).toBe(path.join(vfsPath, 'vol1'));
    expect((await fs.stat(mp)).ino).toBe(ino); // the same directory: nothing copied
    expect(await readTree(mp)).toEqual(before.get('vol1'));
    await fs.writeFile(path.join(mp, 'written-here.txt'), 'after adoption\n');
    const now = await readTree(mp);

    await d.snapshotCreate('vol1', { name: 's1', uuid: randomUUID() });
    const store = await new FsObjectStore(path.join(tmp, 'backups')).open();
    const { id } = await d.backup({ volume: 'vol1', snapshot: 's1', store });
    const target = path.join(tmp, 'restored-vol1');
    await restoreDirectory({ store, volume: 'vol1', id, target });
    expect(await readTree(target)).toEqual(now);
    await d.unmount('vol1');
    expect(await convoyConfigs()).toEqual(configs); // Convoy's records are left as they were
  });

  it('rolls an adopted volume back to its snapshot in place, in its own directory', async () => {
    const d = await driver();
    const dir = path.join(vfsPath, 'vol1');
    const atSnapshot = await readTree(dir);
    await fs.writeFile(path.join(dir, 'hello.txt'), 'changed\n');
    await d.snapshotRestore('vol1', 's1');
    expect(await readTree(dir)).toEqual(atSnapshot);
    expect((await d.get('vol1'))?.status).toMatchObject({ path: dir });
  });

  it('a restart adopts nothing twice: same UUIDs, same files, other directories and Convoy’s records untouched', async () => {
    const first = await driver();
    const uuids = (await first.list()).map((v) => v.uuid);
    const again = await driver();
    expect((await again.list()).map((v) => v.uuid)).toEqual(uuids);
    expect(await again.info()).not.toHaveProperty('rancherConvoyAtStart');
    expect(await readTree(path.join(vfsPath, 'ab'))).toEqual(before.get('ab'));
    expect(await fs.readFile(path.join(vfsPath, 'not-a-volume', 'keep'), 'utf8')).toBe('mine');
    expect(await convoyConfigs()).toEqual(configs);
  });

  it('deleting an adopted volume removes its directory; a restart does not bring it back from Convoy’s record', async () => {
    const d = await driver();
    await d.remove('ab');
    await expect(fs.stat(path.join(vfsPath, 'ab'))).rejects.toThrow(/ENOENT/);
    const again = await driver('h2');
    expect((await again.list()).map((v) => v.name)).toEqual(['vol1']);
    expect(await convoyConfigs()).toEqual(configs);
  });

  it('a Convoy volume named as one of our directories (data) stops the start, and nothing is made or removed', async () => {
    const work = path.join(tmp, 'convoy-go-data');
    await fs.mkdir(work);
    const other = await makeRancherStore(work, ['data']);
    const base = path.join(work, 'vols');
    const tree = await readTree(other.volumes[0]!.dir);
    const d = new VfsDriver({ basePath: base, hostId: 'h1' });
    const err = await rejectionOf(d.start());
    expect(err).toMatchObject({
      code: 'CONVOY_VFS_ADOPT_CONFLICT',
      hint: expect.stringContaining(path.join(base, 'config', 'vfs_volume_data.json')),
    });
    expect((await fs.readdir(base)).sort()).toEqual(['config', 'data']);
    expect(await readTree(other.volumes[0]!.dir)).toEqual(tree);
  });

  it('a Convoy record that is not valid JSON stops the start with CONVOY_RECORD_CORRUPT naming the file', async () => {
    const base = path.join(tmp, 'corrupt');
    await fs.mkdir(path.join(base, 'config'), { recursive: true });
    await fs.writeFile(path.join(base, 'config', 'vfs_volume_x.json'), '{"Name":"x",');
    const err = await rejectionOf(new VfsDriver({ basePath: base, hostId: 'h1' }).start());
    expect(err).toMatchObject({ code: 'CONVOY_RECORD_CORRUPT', message: expect.stringContaining('vfs_volume_x.json') });
  });
});
