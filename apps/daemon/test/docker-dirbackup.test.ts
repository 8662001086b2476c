// Issue 12 end to end: a vfs volume written by containers is backed up as a directory backup;
// after 1 % of its files change, the second backup adds a small fraction of the first, and
// `docker volume create -o backup=<second URL>` gives exactly the changed tree.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readManifest, parseBackupUrl } from '@convoy/blockstore';
import { FsObjectStore } from '@convoy/objectstore';
import { convoyOk } from './helpers/cli.js';
import { ConvoyDaemon } from './helpers/daemon.js';
import { cleanDocker, dockerOk, runInVolume } from './helpers/docker.js';
import { PLUGIN_SOCKET, makeTempDir, nameFactory, removeDir } from './helpers/env.js';

const target = inject('convoyDocker');

describe.skipIf(!target.available)('directory backups of a Docker volume', () => {
  const name = nameFactory();
  const v1 = name('d1');
  const v2 = name('d2');
  let tmp: string;
  let daemon: ConvoyDaemon | undefined;
  let controlSocket: string;

  beforeAll(async () => {
    tmp = await makeTempDir('dirbackup');
    controlSocket = join(tmp, 'control.sock');
    daemon = await ConvoyDaemon.start({
      label: 'dirbackup',
      root: join(tmp, 'root'),
      vfsPath: join(tmp, 'vfs'),
      socket: PLUGIN_SOCKET,
      controlSocket,
      hostId: 'e2e-dirbackup',
    });
  });

  afterAll(async () => {
    const problems = daemon?.running === true ? await cleanDocker([v1, v2]) : [];
    await daemon?.dispose();
    await removeDir(tmp);
    expect(problems).toEqual([]);
  });

  it('the second backup after a 1 % change adds a small fraction, and -o backup=URL restores the changed tree', async () => {
    expect(await dockerOk(['volume', 'create', '-d', 'convoy', v1])).toBe(v1);
    // 200 files of 16 KiB of random bytes in 4 directories
    await runInVolume(
      v1,
      'for d in 0 1 2 3; do mkdir /data/$d; for i in $(seq 1 50); do head -c 16384 /dev/urandom > /data/$d/f$i; done; done',
    );
    const dest = `vfs://${join(tmp, 'bk')}`;
    const s1 = await convoyOk(controlSocket, ['snapshot', 'create', v1]);
    const url1 = await convoyOk(controlSocket, ['backup', 'create', s1, '--dest', dest]);
    await runInVolume(v1, 'head -c 16384 /dev/urandom > /data/2/f7 && echo new > /data/3/added');
    const s2 = await convoyOk(controlSocket, ['snapshot', 'create', v1]);
    const url2 = await convoyOk(controlSocket, ['backup', 'create', s2, '--dest', dest]);

    const store = await new FsObjectStore(join(tmp, 'bk')).open();
    const m1 = await readManifest(store, v1, parseBackupUrl(url1).id);
    const m2 = await readManifest(store, v1, parseBackupUrl(url2).id);
    await store.close();
    expect(m1.kind).toBe('directory');
    expect(m2.parent).toBe(m1.id);
    expect(m1.stats.bytesUploaded).toBeGreaterThan(200 * 16384);
    expect(m2.stats.bytesUploaded).toBeLessThan(m1.stats.bytesUploaded / 10);

    expect(await dockerOk(['volume', 'create', '-d', 'convoy', '-o', `backup=${url2}`, v2])).toBe(v2);
    const sums = 'cd /data && find . -type f | sort | xargs md5sum';
    expect(await runInVolume(v2, sums)).toBe(await runInVolume(v1, sums));
  });
});
