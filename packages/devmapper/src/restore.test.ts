// Restoring Rancher Convoy v0.5.2 devicemapper (deltablock) backups into thin volumes on the fake
// kernel: the data lands bit for bit and only its blocks are allocated; the filesystem type comes
// from the restored superblock; a vfs (archive) backup is refused. The original binary's backups
// are restored in the dm guest (test/guest/rancher-deltablock.guest.test.ts).
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DELTABLOCK_SIZE as BS, deltablockChecksum, deltablockKey } from '@convoy/dirbackup';
import { MemoryObjectStore, rejectionOf } from '@convoy/objectstore/testing';
import { MiB, fakeEnv, random, readAll, type FakeEnv } from './testing/fake-env.js';

let env: FakeEnv;
beforeEach(async () => {
  env = await fakeEnv();
});
afterEach(async () => {
  await env.dispose();
});

const TIME = 'Wed Dec 02 00:57:58 +0000 2026';
const DIR = 'convoy-objectstore/volumes/cv/ol/cvol';
const NAME = 'backup-00000000000000a1';

async function convoyStore(blocks: Map<number, Buffer>, size: number, driver = 'devicemapper'): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore();
  for (const b of blocks.values()) await store.put(deltablockKey('cvol', deltablockChecksum(b)), gzipSync(b));
  await store.put(`${DIR}/volume.cfg`, Buffer.from(JSON.stringify({ Name: 'cvol', Driver: driver, Size: size, CreatedTime: TIME })));
  const record = {
    Name: NAME,
    Driver: '',
    VolumeName: 'cvol',
    SnapshotName: 's',
    CreatedTime: TIME,
    Blocks: [...blocks].map(([i, b]) => ({ Offset: i * BS, BlockChecksum: deltablockChecksum(b) })),
    SingleFile: { FilePath: driver === 'vfs' ? `${DIR}/BackupFiles/${NAME}.bak` : '' },
  };
  await store.put(`${DIR}/backups/backup_${NAME}.cfg`, Buffer.from(JSON.stringify(record)));
  return store;
}

describe('a Rancher Convoy deltablock backup restored by the devicemapper driver (fake kernel)', () => {
  it('becomes a thin volume holding its data bit for bit, allocating only its data blocks', async () => {
    const head = Buffer.alloc(BS);
    head.writeUInt16LE(0xef53, 1080); // an ext4 superblock's magic, with extents
    head.writeUInt32LE(0x40, 1120);
    const blocks = new Map([
      [0, head],
      [2, random(BS)],
      [3, Buffer.alloc(BS)], // a listed block of zeros: not written, not allocated
    ]);
    const store = await convoyStore(blocks, 8 * BS);
    const d = await env.start({ fs: 'xfs' });
    const v = await d.restore({ volume: 'r', store, backupVolume: 'cvol', backupId: NAME });
    expect(v).toMatchObject({ size: 8 * BS, fs: 'ext4', restoredFrom: `memory://memory?backup=${NAME}&volume=cvol` });
    expect((await d.status()).dataUsedBlocks).toBe(2);
    const got = await readAll(await d.activate('r'), 8 * BS);
    const want = Buffer.alloc(8 * BS);
    for (const [i, b] of blocks) b.copy(want, i * BS);
    expect(got.equals(want)).toBe(true);
    expect(await rejectionOf(d.restore({ volume: 'small', size: MiB, store, backupVolume: 'cvol', backupId: NAME }))).toMatchObject({
      code: 'CONVOY_INVALID_ARGUMENT',
    });
  });

  it('with a missing block fails naming it and leaves no volume behind; a vfs backup is CONVOY_BACKUP_INCOMPATIBLE', async () => {
    const b = random(BS);
    const store = await convoyStore(new Map([[1, b]]), 4 * BS);
    await store.delete([deltablockKey('cvol', deltablockChecksum(b))]);
    const d = await env.start();
    expect(await rejectionOf(d.restore({ volume: 'r', store, backupVolume: 'cvol', backupId: NAME }))).toMatchObject({
      code: 'CONVOY_RESTORE_INCOMPLETE',
    });
    expect(await d.list()).toEqual([]);
    expect(await d.poolDeviceIds()).toEqual([]);
    const vfs = await convoyStore(new Map(), 0, 'vfs');
    expect(await rejectionOf(d.restore({ volume: 'r', store: vfs, backupVolume: 'cvol', backupId: NAME }))).toMatchObject({
      code: 'CONVOY_BACKUP_INCOMPATIBLE',
    });
  });
});
