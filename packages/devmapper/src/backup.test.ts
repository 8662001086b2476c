import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteBackup, readManifest } from '@convoy/blockstore';
import { openStore, type ObjectStore } from '@convoy/objectstore';
import { rejectionOf } from '@convoy/objectstore/testing';
import type { HostOps } from './host-ops.js';
import { MiB, fakeEnv, random, readAll, writeAt, type FakeEnv } from './testing/fake-env.js';

let env: FakeEnv;
let store: ObjectStore;
beforeEach(async () => {
  env = await fakeEnv();
  store = await openStore(`vfs://${path.join(env.dir, 'store')}`);
});
afterEach(async () => {
  await env.dispose();
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('backups of thin snapshots (fake kernel)', () => {
  it('full, then incremental from thin_delta reading only changed blocks, then a restore into another pool', async () => {
    const d = await env.start();
    await d.create({ name: 'v', size: 20 * MiB });
    const dev = await d.activate('v');
    await writeAt(dev, 0, random(5 * MiB)); // blocks 0-2
    await writeAt(dev, 12 * MiB, random(MiB)); // block 6
    await d.snapshotCreate('v', 's1');
    const full = await d.backup({ volume: 'v', snapshot: 's1', store });
    expect(full.parentSnapshot).toBeUndefined();
    expect(full.changedBlocks).toBeUndefined();
    // only the blocks the device maps are read (thin_delta of the snapshot against itself)
    expect(full.manifest.stats).toMatchObject({ blocksTotal: 10, blocksRead: 4, blocksNonZero: 4 });
    expect(full.url).toBe(`vfs://${path.join(env.dir, 'store')}?backup=${full.id}&volume=v`);
    expect((await d.snapshotGet('v', 's1'))?.backups).toEqual({ [store.location]: full.id });

    await writeAt(dev, 2 * MiB + 7, random(100)); // block 1 rewritten
    await writeAt(dev, 18 * MiB, random(2 * MiB)); // block 9 new
    await writeAt(dev, 12 * MiB, Buffer.alloc(2 * MiB)); // block 6 zeroed (unmapped in the fake)
    await d.snapshotCreate('v', 's2');
    const inc = await d.backup({ volume: 'v', snapshot: 's2', store });
    expect(inc).toMatchObject({ parentSnapshot: 's1', changedBlocks: 3 });
    expect(inc.manifest.parent).toBe(full.id);
    expect(inc.manifest.stats).toMatchObject({ blocksRead: 3, blocksNonZero: 4 });

    // restore on another pool (another root and pool name) is bit-identical to s2
    const src = await d.backupSource('v', 's2');
    const want = sha(await src.source.read(0, 20 * MiB));
    await src.source.close();
    const other = await env.start({ root: path.join(env.dir, 'root2'), thinPoolName: 'pool2' });
    const r = await other.restore({ volume: 'copy', store, backupVolume: 'v', backupId: inc.id });
    expect(r).toMatchObject({ name: 'copy', size: 20 * MiB, restoredFrom: inc.url, fs: 'ext4' });
    const rdev = await other.activate('copy');
    expect(sha(await readAll(rdev, 20 * MiB))).toBe(want);
    // only non-zero blocks were written: the new pool holds as many blocks as the backup has entries
    expect((await other.status()).dataUsedBlocks).toBe(inc.manifest.blockMap.entries);
    await other.deactivate('copy');
    expect(await rejectionOf(other.restore({ volume: 'copy', store, backupVolume: 'v', backupId: inc.id }))).toMatchObject({
      code: 'CONVOY_VOLUME_EXISTS',
    });
    expect(await rejectionOf(other.restore({ volume: 'small', size: MiB, store, backupVolume: 'v', backupId: inc.id }))).toMatchObject({
      code: 'CONVOY_INVALID_ARGUMENT',
    });
    expect(await other.get('small')).toBeUndefined();
  });

  it('a restore takes the filesystem type from the backup, not from its own default', async () => {
    const d = await env.start({ fs: 'xfs' });
    await d.create({ name: 'x', size: 4 * MiB });
    await d.mount('x');
    await d.snapshotCreate('x', 's');
    const b = await d.backup({ volume: 'x', snapshot: 's', store });
    expect(b.manifest.labels).toEqual({ 'convoy.fs': 'xfs', driver: 'devicemapper' });
    const other = await env.start({ root: path.join(env.dir, 'root2'), thinPoolName: 'pool2' });
    expect(await other.restore({ volume: 'y', store, backupVolume: 'x', backupId: b.id })).toMatchObject({ fs: 'xfs' });
    expect(await other.mount('y')).toBe(path.join(env.dir, 'root2', 'mounts', 'y')); // the fake checks the fs marker
    expect(env.host.mkfsCalls).toBe(1);
  });

  it('a full backup reads only the mapped blocks, and everything when thin_delta and the kernel disagree on the count', async () => {
    const d = await env.start();
    await d.create({ name: 'v', size: 64 * MiB });
    const dev = await d.activate('v');
    await writeAt(dev, 0, random(100)); // block 0
    await writeAt(dev, 21 * MiB, random(3 * MiB)); // blocks 10 and 11
    await writeAt(dev, 64 * MiB - 1, random(1)); // block 31
    await d.snapshotCreate('v', 's');
    const src = await d.backupSource('v', 's');
    const holes = Array.from({ length: 32 }, (_, i) => src.source.isHole?.(i * 2 * MiB, 2 * MiB));
    expect(holes.flatMap((h, i) => (h === true ? [] : [i]))).toEqual([0, 10, 11, 31]);
    await src.source.close();
    const full = await d.backup({ volume: 'v', snapshot: 's', store });
    expect(full.manifest.stats).toMatchObject({ blocksTotal: 32, blocksRead: 4, blocksNonZero: 4 });
    const restored = await (
      await env.start({ root: path.join(env.dir, 'r2'), thinPoolName: 'pool2' })
    ).restore({
      volume: 'copy',
      store,
      backupVolume: 'v',
      backupId: full.id,
    });
    expect(restored.size).toBe(64 * MiB);
    await d.deactivate('v');

    // A thin_delta that leaves out a mapped range (a bug, a tool that changed): its count no longer
    // matches the kernel's, so the mapping is not trusted and every block is read.
    const host = env.host;
    const lying = new Proxy(host, {
      get: (t, k: keyof HostOps) =>
        k === 'thinDelta'
          ? async (m: string, a: number, b: number) => (await t.thinDelta(m, a, b)).replace(/<same [^>]*\/>/, '')
          : typeof t[k] === 'function'
            ? (t[k] as (...a: unknown[]) => unknown).bind(t)
            : t[k],
    });
    const d3 = await env.start({ root: path.join(env.dir, 'r3'), thinPoolName: 'pool3', host: lying });
    await d3.create({ name: 'w', size: 16 * MiB });
    const wdev = await d3.activate('w');
    await writeAt(wdev, 0, random(10));
    await writeAt(wdev, 9 * MiB, random(10));
    await d3.snapshotCreate('w', 's');
    const all = await d3.backup({ volume: 'w', snapshot: 's', store });
    expect(all.manifest.stats).toMatchObject({ blocksTotal: 8, blocksRead: 8, blocksNonZero: 2 });
  });

  it('a backup source with a parent snapshot lists the changed extents; without a live parent backup it reads everything', async () => {
    const d = await env.start();
    await d.create({ name: 'v', size: 8 * MiB });
    const dev = await d.activate('v');
    await writeAt(dev, 0, random(8 * MiB));
    await d.snapshotCreate('v', 'a');
    await writeAt(dev, 4 * MiB, random(10));
    await d.snapshotCreate('v', 'b');
    const src = await d.backupSource('v', 'b', { parentSnapshot: 'a' });
    expect(src).toMatchObject({ parentSnapshot: 'a', changed: [{ offset: 4 * MiB, length: 2 * MiB }] });
    await src.source.close();
    expect(env.kernel.pools.values().next().value?.held).toBe(false); // metadata snapshot released
    expect(await rejectionOf(d.backupSource('v', 'b', { parentSnapshot: 'b' }))).toMatchObject({ code: 'CONVOY_INVALID_ARGUMENT' });
    expect(await rejectionOf(d.backupSource('v', 'b', { parentSnapshot: 'zz' }))).toMatchObject({ code: 'CONVOY_SNAPSHOT_NOT_FOUND' });

    const first = await d.backup({ volume: 'v', snapshot: 'a', store });
    await deleteBackup({ store, volume: 'v', id: first.id });
    const second = await d.backup({ volume: 'v', snapshot: 'b', store });
    expect(second.parentSnapshot).toBeUndefined(); // a's backup is gone
    expect(second.manifest.stats.blocksRead).toBe(4);
    // a third snapshot goes incremental against b
    await writeAt(dev, 0, random(1));
    await d.snapshotCreate('v', 'c');
    const third = await d.backup({ volume: 'v', snapshot: 'c', store, labels: { k: 'x' } });
    expect(third).toMatchObject({ parentSnapshot: 'b', changedBlocks: 1 });
    expect((await readManifest(store, 'v', third.id)).labels).toEqual({ k: 'x', 'convoy.fs': 'ext4', driver: 'devicemapper' });
    // another store: no parent there, a full read
    const store2 = await openStore(`vfs://${path.join(env.dir, 'store2')}`);
    const elsewhere = await d.backup({ volume: 'v', snapshot: 'c', store: store2, backupVolume: 'renamed' });
    expect(elsewhere.parentSnapshot).toBeUndefined();
    expect(elsewhere.manifest.volume).toBe('renamed');
    expect(Object.keys((await d.snapshotGet('v', 'c'))?.backups ?? {}).sort()).toEqual([store.location, store2.location].sort());
    await fs.rm(path.join(env.dir, 'store2'), { recursive: true });
  });
});
