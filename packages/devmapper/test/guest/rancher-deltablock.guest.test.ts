// Rancher Convoy v0.5.2's devicemapper ("deltablock") backups, made by the original binary on a
// real thin pool in the dm guest: a full backup and an incremental one after files were changed in
// place, deleted and trimmed (their pool blocks unmapped), and added. Each restores bit for bit (sha256 of the whole volume as it was at its
// snapshot) through convoy-backup into a file and onto a block device holding other data, and
// through this driver's restore (`convoy create NAME --backup URL` with devicemapper) into a new
// thin volume that mounts with the files Convoy's volume held. convoy-backup is the built CLI
// (apps/backup/dist: `npx nx run-many -t build`, done before the dm-guest stage of test-all.sh).
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAnyBackupUrl } from '@convoy/blockstore';
import { openStore, type ObjectStore } from '@convoy/objectstore';
import { DevmapperDriver } from '../../src/index.js';
import { backupOf, startConvoyGo, syncDevice, type ConvoyGo } from './convoy-go-dm.js';
import { MiB, assertInGuest, resetDeviceMapper, scratch, sha256Of, startBuiltDaemon } from './guest-helpers.js';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../../../..');
const BACKUP_CLI = path.join(REPO, 'apps/backup/bin/convoy-backup.cjs');
const SIZE = 64 * MiB;

let dir: string;
let cg: ConvoyGo;
let storeDir: string;
const backups: { url: string; name: string; sha: string; hello: string; data: Buffer }[] = [];

beforeAll(async () => {
  assertInGuest();
  resetDeviceMapper();
  dir = await scratch('rancher-deltablock');
  storeDir = path.join(dir, 'store');
  await fs.mkdir(storeDir); // Convoy's vfs store must exist
  cg = await startConvoyGo(dir, 'guest-cg');
});

afterAll(async () => {
  await cg?.stop();
  resetDeviceMapper();
});

/** sha256 of the whole device, read past any cached pages (the filesystem wrote around the block device's cache). */
async function deviceSha(dev: string): Promise<string> {
  syncDevice(dev);
  return sha256Of(dev, SIZE);
}

async function convoyBackup(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [BACKUP_CLI, ...args, '--json']);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

async function blockObjects(): Promise<number> {
  return (await fs.readdir(storeDir, { recursive: true })).filter((f) => f.endsWith('.blk')).length;
}

describe('deltablock backups made by Rancher Convoy v0.5.2 on a real thin pool', () => {
  it('Convoy backs a volume up in full, then incrementally after files changed, were deleted and trimmed, and added', async () => {
    await cg.cli('create', 'vol1', '--size', '64M'); // Convoy makes an ext4 filesystem on it
    const dev = '/dev/mapper/vol1';
    const data = randomBytes(6 * MiB);
    await cg.withMount('vol1', dir, async (mp) => {
      await fs.writeFile(path.join(mp, 'hello.txt'), 'first\n');
      await fs.writeFile(path.join(mp, 'data.bin'), data);
      await fs.writeFile(path.join(mp, 'zeros.bin'), Buffer.alloc(4 * MiB)); // written zeros: mapped blocks of zeros
      await fs.writeFile(path.join(mp, 'gone.bin'), randomBytes(6 * MiB));
      await fs.writeFile(path.join(mp, 'mixed.bin'), Buffer.concat([randomBytes(MiB), Buffer.alloc(2 * MiB), randomBytes(MiB)]));
    });
    const sha1 = await deviceSha(dev);
    await cg.cli('snapshot', 'create', 'vol1', '--name', 's1');
    const b1 = backupOf(await cg.cli('backup', 'create', 's1', '--dest', `vfs://${storeDir}`));
    expect(b1.url).toContain('\\u0026');
    backups.push({ ...b1, sha: sha1, hello: 'first\n', data: Buffer.from(data) });
    const after1 = await blockObjects();

    const patch = randomBytes(300 * 1024);
    patch.copy(data, 3 * MiB + 100);
    await cg.withMount('vol1', dir, async (mp) => {
      await fs.writeFile(path.join(mp, 'hello.txt'), 'second\n');
      const fh = await fs.open(path.join(mp, 'data.bin'), 'r+'); // in place: the same blocks change
      await fh.write(patch, 0, patch.length, 3 * MiB + 100);
      await fh.close();
      await fs.rm(path.join(mp, 'gone.bin'));
      execFileSync('fstrim', [mp]); // its pool blocks are unmapped: zeros in s2
      await fs.writeFile(path.join(mp, 'new.bin'), randomBytes(3 * MiB));
    });
    const sha2 = await deviceSha(dev);
    expect(sha2).not.toBe(sha1);
    await cg.cli('snapshot', 'create', 'vol1', '--name', 's2');
    const b2 = backupOf(await cg.cli('backup', 'create', 's2', '--dest', `vfs://${storeDir}`));
    backups.push({ ...b2, sha: sha2, hello: 'second\n', data });
    const after2 = await blockObjects();
    // incremental: only the changed blocks were added (the full backup stored many more)
    expect(after2 - after1).toBeGreaterThan(0);
    expect(after2 - after1).toBeLessThan(after1);
    console.log(`Convoy's deltablock store: ${after1} block objects after the full backup, ${after2} after the incremental one`);
  });

  it('convoy-backup lists both and restores each into a new file, bit for bit', async () => {
    const list = (await convoyBackup('list', `vfs://${storeDir}`)) as unknown as Record<string, unknown>[];
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({ format: 'rancher-convoy-v0.5.2', kind: 'blocks', driver: 'devicemapper', size: SIZE });
    for (const [i, b] of backups.entries()) {
      const target = path.join(dir, `restored-${i}.img`);
      const r = await convoyBackup('restore', b.url, target);
      expect(r).toMatchObject({ id: b.name, kind: 'blocks', size: SIZE });
      expect(await sha256Of(target, SIZE)).toBe(b.sha);
      expect((await fs.stat(target)).size).toBe(SIZE);
    }
  });

  it('convoy-backup restores onto a block device that held other data: zeros where the backup has no block', async () => {
    const file = path.join(dir, 'dev.img');
    await fs.writeFile(file, randomBytes(SIZE));
    const loop = execFileSync('losetup', ['-f', '--show', file]).toString().trim();
    try {
      for (const b of backups) {
        await convoyBackup('restore', b.url.replace('\\u0026', '&'), loop);
        expect(await sha256Of(loop, SIZE)).toBe(b.sha);
      }
    } finally {
      execFileSync('losetup', ['-d', loop]);
    }
  });

  it("the devicemapper driver's restore (convoy create --backup) makes thin volumes bit for bit that mount with Convoy's files", async () => {
    const d = await DevmapperDriver.start({
      root: path.join(dir, 'ours'),
      thinPoolName: 'guest-ours',
      loopDataSize: 512 * MiB,
      loopMetadataSize: 32 * MiB,
    });
    let store: ObjectStore | undefined;
    try {
      for (const [i, b] of backups.entries()) {
        const ref = parseAnyBackupUrl(b.url);
        if (ref.format !== 'rancher-convoy-v0.5.2') throw new Error(`not a Convoy URL: ${b.url}`);
        store ??= await openStore(ref.storeUrl);
        const v = await d.restore({ volume: `r${i}`, store, backupVolume: ref.volume, backupId: ref.name });
        expect(v).toMatchObject({ size: SIZE, fs: 'ext4', restoredFrom: `vfs://${storeDir}?backup=${b.name}&volume=vol1` });
        expect(await sha256Of(await d.activate(`r${i}`), SIZE)).toBe(b.sha);
        await d.deactivate(`r${i}`);
        const mp = await d.mount(`r${i}`);
        expect(await fs.readFile(path.join(mp, 'hello.txt'), 'utf8')).toBe(b.hello);
        expect((await fs.readFile(path.join(mp, 'data.bin'))).equals(b.data)).toBe(true);
        await d.unmount(`r${i}`);
      }
    } finally {
      await store?.close();
    }
  });

  it('convoy-daemon (vfs default, devicemapper beside it) restores a Convoy deltablock URL into a thin volume: `convoy create --backup`', async () => {
    const daemon = await startBuiltDaemon(dir, [
      ...['--root', path.join(dir, 'daemon-root'), '--drivers', 'vfs,devicemapper', '--default-driver', 'vfs'],
      ...[
        '--driver-opts',
        'dm.thinpoolname=guest-daemon',
        '--driver-opts',
        'dm.loopdatasize=512M',
        '--driver-opts',
        'dm.loopmetadatasize=32M',
      ],
      ...['--maintenance-interval', 'off', '--full-maintenance-interval', 'off'],
    ]);
    try {
      const b = backups.at(-1)!;
      const listed = daemon.convoyJson<{ id: string }[]>('backup', 'list', `vfs://${storeDir}`);
      expect(listed.map((x) => x.id)).toEqual(expect.arrayContaining(backups.map((x) => x.name)));
      const v = daemon.convoyJson<{ name: string; driver: string }>('create', 'from-convoy', '--backup', b.url);
      expect(v).toMatchObject({ name: 'from-convoy', driver: 'devicemapper' }); // the backup's driver, not the default
      const mp = daemon.convoy('mount', 'from-convoy').trim().split('\n').pop()!;
      expect(await fs.readFile(path.join(mp, 'hello.txt'), 'utf8')).toBe(b.hello);
      expect((await fs.readFile(path.join(mp, 'data.bin'))).equals(b.data)).toBe(true);
      daemon.convoy('umount', 'from-convoy');
    } finally {
      await daemon.stop();
    }
  });
});
