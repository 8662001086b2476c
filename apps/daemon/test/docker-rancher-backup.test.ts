// Issue 15 against the real Docker engine: a backup the original Rancher Convoy v0.5.2 binary made
// (vfs, its single-file format) restores through `docker volume create -o backup=URL`, with the
// URL exactly as Convoy printed it (`\u0026` for `&`), and the volume holds the files Convoy's
// volume held when it was backed up. The next backup of it (ours) restores the same way.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeRancherStore, readTree, type RancherStore } from '../../../tools/vitest/rancher-convoy.js';
import { convoyOk } from './helpers/cli.js';
import { ConvoyDaemon } from './helpers/daemon.js';
import { cleanDocker, dockerOk, runInVolume } from './helpers/docker.js';
import { PLUGIN_SOCKET, makeTempDir, nameFactory, removeDir } from './helpers/env.js';

const target = inject('convoyDocker');

describe.skipIf(!target.available)("Rancher Convoy's backups through Docker", () => {
  const name = nameFactory();
  const v1 = name('rc1');
  const v2 = name('rc2');
  let tmp: string;
  let rs: RancherStore;
  let daemon: ConvoyDaemon | undefined;
  let controlSocket: string;

  beforeAll(async () => {
    tmp = await makeTempDir('rancher-backup');
    await mkdir(join(tmp, 'convoy-go'));
    rs = await makeRancherStore(join(tmp, 'convoy-go'), ['vol1'], { backups: 2 });
    controlSocket = join(tmp, 'control.sock');
    daemon = await ConvoyDaemon.start({
      label: 'rancher-backup',
      root: join(tmp, 'root'),
      vfsPath: join(tmp, 'vfs'),
      socket: PLUGIN_SOCKET,
      controlSocket,
      hostId: 'e2e-rancher',
    });
  }, 300_000);

  afterAll(async () => {
    const problems = daemon?.running === true ? await cleanDocker([v1, v2]) : [];
    await daemon?.dispose();
    await removeDir(tmp);
    expect(problems).toEqual([]);
  });

  /** The volume's tree (without its root entry, whose mode is the volume's, not the backup's). */
  const treeOf = async (volume: string): Promise<unknown[]> => {
    const mp = await convoyOk(controlSocket, ['mount', volume]);
    try {
      return (await readTree(mp)).filter((e) => e.path !== '');
    } finally {
      await convoyOk(controlSocket, ['umount', volume]);
    }
  };

  it('docker volume create -o backup=<the URL as Convoy printed it> gives the tree Convoy backed up; a backup of it restores too', async () => {
    const vol = rs.volumes[0]!;
    const older = vol.backups[0]!;
    expect(older.url).toContain('\\u0026'); // as Convoy printed it
    expect(await dockerOk(['volume', 'create', '-d', 'convoy', '-o', `backup=${older.url}`, v1])).toBe(v1);
    expect(await treeOf(v1)).toEqual(older.tree.filter((e) => e.path !== ''));
    expect(await runInVolume(v1, 'cat /data/hello.txt')).toBe(
      Buffer.from(older.tree.find((e) => e.path === 'hello.txt')!.content!, 'base64')
        .toString()
        .trimEnd(),
    );

    const s = await convoyOk(controlSocket, ['snapshot', 'create', v1]);
    const ours = await convoyOk(controlSocket, ['backup', 'create', s, '--dest', `vfs://${join(tmp, 'ours')}`]);
    expect(await dockerOk(['volume', 'create', '-d', 'convoy', '-o', `backup=${ours}`, v2])).toBe(v2);
    expect(await treeOf(v2)).toEqual(await treeOf(v1));
  });
});
