// `convoy create NAME --backup URL` and Docker's `-o backup=URL` with the URL of a backup the
// original Rancher Convoy v0.5.2 made (vfs driver), exactly as it printed it: a new vfs volume
// holding the backed-up tree bit for bit.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VfsDriver } from '@convoy/vfs';
import { VolumeManager } from '../src/index.js';
import { makeRancherStore, readTree, type RancherStore } from '../../../tools/vitest/rancher-convoy.js';

let tmp: string;
let rs: RancherStore;
let m: VolumeManager;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-mgr-rancher-'));
  const work = path.join(tmp, 'convoy-go');
  await fs.mkdir(work);
  rs = await makeRancherStore(work);
  m = await VolumeManager.open({
    root: path.join(tmp, 'root'),
    drivers: [new VfsDriver({ basePath: path.join(tmp, 'vfs'), hostId: 'h1' })],
  });
}, 120_000);
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('a new vfs volume from a Rancher Convoy v0.5.2 backup', () => {
  it('convoy create --backup with the URL as Convoy printed it (\\u0026) restores the tree bit for bit', async () => {
    const v = rs.volumes.find((x) => x.name === 'vol1')!;
    const vol = await m.create({ name: 'from-convoy', caller: 'cli', backup: v.url });
    expect(vol.name).toBe('from-convoy');
    const mp = await m.mount('from-convoy', { id: 'cli', caller: 'cli' });
    expect(await readTree(mp)).toEqual(await readTree(v.dir));
  });

  it("Docker's -o backup= with the & form restores too", async () => {
    const v = rs.volumes.find((x) => x.name === 'ab')!;
    await m.create({ name: 'docker-ab', caller: 'docker', options: { backup: v.url.replace('\\u0026', '&') } });
    const mp = await m.mount('docker-ab', { id: 'c1', caller: 'docker' });
    expect(await readTree(mp)).toEqual(await readTree(v.dir));
  });

  it('a backup the store does not hold fails before any volume is created', async () => {
    const v = rs.volumes[0]!;
    await expect(
      m.create({ name: 'nope', caller: 'cli', backup: v.url.replace(v.backup, 'backup-0000000000000000') }),
    ).rejects.toMatchObject({
      code: 'CONVOY_BACKUP_NOT_FOUND',
    });
    expect(await m.get('nope')).toBeUndefined();
  });
});
