// The scenario on a real kernel (dm guest): pool on loop files; create with a size, mkfs,
// mount, write; snapshot; backup to a vfs store; write more; second snapshot; incremental backup
// reading only thin_delta's changed blocks; restore on another pool, bit-identical; a daemon
// restart finds everything; deleting snapshots and volumes leaves both pools empty.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type ObjectStore } from '@convoy/objectstore';
import { DevmapperDriver, type DevmapperDriverOptions, type DriverBackupResult } from '../../src/index.js';
import { BLOCK, MiB, assertInGuest, blockHashes, resetDeviceMapper, scratch, sha256Of } from './guest-helpers.js';

let dir: string;
let store: ObjectStore;
let opts: DevmapperDriverOptions;
let opts2: DevmapperDriverOptions;
let d: DevmapperDriver;
let d2: DevmapperDriver;
let full: DriverBackupResult;
let inc: DriverBackupResult;
let mp: string;
const SIZE = 128 * MiB;
const first = randomBytes(24 * MiB);
const patch = randomBytes(3 * MiB);
const added = randomBytes(5 * MiB);

async function writeFileSynced(file: string, data: Buffer): Promise<void> {
  const fh = await fs.open(file, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

beforeAll(async () => {
  assertInGuest();
  resetDeviceMapper();
  dir = await scratch('lifecycle');
  store = await openStore(`vfs://${dir}/store`);
  opts = {
    root: `${dir}/root1`,
    thinPoolName: 'guest-pool1',
    loopDataSize: 1024 * MiB,
    loopMetadataSize: 32 * MiB,
    defaultVolumeSize: 64 * MiB,
  };
  opts2 = { root: `${dir}/root2`, thinPoolName: 'guest-pool2', loopDataSize: 512 * MiB, loopMetadataSize: 32 * MiB };
});

afterAll(() => {
  resetDeviceMapper();
});

describe('thin volumes, snapshots and incremental backups on a real thin pool', () => {
  it('builds a pool on sparse loop files', async () => {
    d = await DevmapperDriver.start(opts);
    const st = await d.status();
    expect(st).toMatchObject({
      name: 'guest-pool1',
      loopFiles: true,
      blockSize: BLOCK,
      dataTotalBlocks: 512,
      dataUsedBlocks: 0,
      mode: 'rw',
      heldMetadataRoot: undefined,
    });
    expect(st.dataDevice).toMatch(/^\/dev\/loop\d+$/);
    expect((await fs.stat(`${dir}/root1/data`)).blocks).toBeLessThan(2048); // sparse
  });

  it('creates a volume with --size, makes its filesystem on first mount, mounts it and writes', async () => {
    expect((await d.create({ name: 'vol', size: SIZE })).size).toBe(SIZE);
    expect((await d.create({ name: 'small' })).size).toBe(64 * MiB);
    mp = await d.mount('vol');
    expect(mp).toBe(`${dir}/root1/mounts/vol`);
    const mounts = await fs.readFile('/proc/self/mounts', 'utf8');
    expect(mounts).toMatch(new RegExp(`^/dev/mapper/guest-pool1-vol-1 ${mp} ext4 `, 'm'));
    await writeFileSynced(path.join(mp, 'data.bin'), first);
    await writeFileSynced(path.join(mp, 'hello.txt'), Buffer.from('hello\n'));
    expect((await d.status()).dataUsedBlocks).toBeGreaterThanOrEqual(12);
  });

  it('snapshots the mounted volume and backs the snapshot up in full', async () => {
    await d.snapshotCreate('vol', 's1');
    full = await d.backup({ volume: 'vol', snapshot: 's1', store });
    expect(full.parentSnapshot).toBeUndefined();
    // only the blocks the thin device maps are read (24 MiB of data and ext4's metadata), not all 128 MiB
    expect(full.manifest.stats.blocksNonZero).toBeGreaterThanOrEqual(12);
    expect(full.manifest.stats.blocksRead).toBeGreaterThanOrEqual(full.manifest.stats.blocksNonZero);
    expect(full.manifest.stats.blocksRead).toBeLessThan(SIZE / BLOCK / 2);
  });

  it('backs up the second snapshot incrementally, reading only the blocks thin_delta reports', async () => {
    const fh = await fs.open(path.join(mp, 'data.bin'), 'r+');
    await fh.write(patch, 0, patch.length, 10 * MiB + 4096);
    await fh.sync();
    await fh.close();
    await fs.writeFile(path.join(mp, 'added.bin'), added);
    await d.snapshotCreate('vol', 's2');

    // what really differs between s1 and s2, block by block
    const a = await d.backupSource('vol', 's1');
    const h1 = await blockHashes(a.source);
    await a.source.close();
    const b = await d.backupSource('vol', 's2', { parentSnapshot: 's1' });
    const h2 = await blockHashes(b.source);
    await b.source.close();
    const differ = h1.blocks.flatMap((h, i) => (h !== h2.blocks[i] ? [i] : []));
    const listed = new Set((b.changed ?? []).flatMap((e) => Array.from({ length: e.length / BLOCK }, (_, k) => e.offset / BLOCK + k)));
    expect(differ.length).toBeGreaterThanOrEqual(4); // ≥ 2 blocks of the patch + 3 of the new file
    for (const i of differ) expect(listed.has(i)).toBe(true); // thin_delta misses nothing

    inc = await d.backup({ volume: 'vol', snapshot: 's2', store });
    expect(inc.parentSnapshot).toBe('s1');
    expect(inc.manifest.parent).toBe(full.id);
    expect(inc.changedBlocks).toBe(listed.size);
    expect(inc.manifest.stats.blocksRead).toBe(listed.size); // only the changed blocks were read
    expect(inc.manifest.stats.blocksRead).toBeLessThan(SIZE / BLOCK / 4);
    console.log(
      `incremental: ${differ.length} blocks differ, thin_delta listed ${listed.size}, backup read ${inc.manifest.stats.blocksRead} of ${SIZE / BLOCK}`,
    );
  });

  it('restores into a new volume on another pool, bit-identical, allocating only non-zero blocks', async () => {
    d2 = await DevmapperDriver.start(opts2);
    const r = await d2.restore({ volume: 'copy', store, backupVolume: 'vol', backupId: inc.id });
    expect(r).toMatchObject({ name: 'copy', size: SIZE, restoredFrom: inc.url });
    expect((await d2.status()).dataUsedBlocks).toBe(inc.manifest.blockMap.entries);
    const s2 = await d.backupSource('vol', 's2');
    const want = (await blockHashes(s2.source)).all;
    await s2.source.close();
    const dev = await d2.activate('copy');
    expect(await sha256Of(dev, SIZE)).toBe(want);
    await d2.deactivate('copy');
    const rmp = await d2.mount('copy');
    expect(Buffer.compare(await fs.readFile(path.join(rmp, 'added.bin')), added)).toBe(0);
    const data = await fs.readFile(path.join(rmp, 'data.bin'));
    expect(data.subarray(10 * MiB + 4096, 10 * MiB + 4096 + patch.length).equals(patch)).toBe(true);
    await d2.unmount('copy');
  });

  it('finds every volume, snapshot and mount again after a restart (a new driver on the same root)', async () => {
    const before = { volumes: await d.list(), snaps: await d.snapshotList('vol') };
    await d.stop();
    d = await DevmapperDriver.start(opts);
    expect(d.startReport).toMatchObject({
      settled: [],
      droppedRecords: [],
      orphansDeleted: [],
      devicesRemoved: [],
      mountsCleared: [],
      poolListed: true,
    });
    expect(await d.list()).toEqual(before.volumes);
    expect(await d.snapshotList('vol')).toEqual(before.snaps);
    expect((await d.get('vol'))?.mountpoint).toBe(mp);
    expect(await fs.readFile(path.join(mp, 'hello.txt'), 'utf8')).toBe('hello\n');
    expect((await d.snapshotGet('vol', 's2'))?.backups[store.location]).toBe(inc.id);
  });

  it('deleting snapshots and volumes leaves both pools empty', async () => {
    await d.unmount('vol');
    await d.snapshotDelete('vol', 's1');
    await d.snapshotDelete('vol', 's2');
    await d.remove('vol');
    await d.remove('small');
    await d2.remove('copy');
    for (const x of [d, d2]) {
      expect(await x.list()).toEqual([]);
      expect(await x.poolDeviceIds()).toEqual([]);
      expect((await x.status()).dataUsedBlocks).toBe(0);
      await x.destroyPool();
    }
  });
});
