// A volume from a snapshot (`convoy create NEW --snapshot SNAP`, upstream #62) on a real thin pool:
// a thin snapshot of the snapshot holds the snapshot's data bit for bit, shares its blocks, and is
// independent of the origin and of the snapshot afterwards. And `convoy snapshot restore`: the
// volume rolled back to its snapshot in place, refused while mounted, the old device freed.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevmapperDriver } from '../../src/index.js';
import { MiB, assertInGuest, blockHashes, resetDeviceMapper, scratch, sha256Of } from './guest-helpers.js';

let d: DevmapperDriver;
const SIZE = 64 * MiB;

beforeAll(async () => {
  assertInGuest();
  resetDeviceMapper();
  const dir = await scratch('snapshot-clone');
  d = await DevmapperDriver.start({
    root: `${dir}/root`,
    thinPoolName: 'guest-clone',
    loopDataSize: 512 * MiB,
    loopMetadataSize: 32 * MiB,
  });
});

afterAll(() => {
  resetDeviceMapper();
});

describe('a volume created from a snapshot on a real thin pool', () => {
  it("holds the snapshot's data bit for bit, shares its blocks, and changes independently", async () => {
    await d.create({ name: 'origin', size: SIZE });
    const data = randomBytes(8 * MiB);
    let mp = await d.mount('origin');
    await fs.writeFile(path.join(mp, 'data.bin'), data);
    await fs.writeFile(path.join(mp, 'hello.txt'), 'at the snapshot\n');
    await d.snapshotCreate('origin', 'snap');
    await fs.writeFile(path.join(mp, 'hello.txt'), 'origin later\n');
    await d.unmount('origin');

    const src = await d.backupSource('origin', 'snap');
    const want = (await blockHashes(src.source)).all;
    await src.source.close();
    const used = (await d.status()).dataUsedBlocks;
    const clone = await d.create({ name: 'clone', fromSnapshot: { volume: 'origin', snapshot: 'snap' } });
    expect(clone).toMatchObject({ size: SIZE, fs: 'ext4' });
    expect((await d.status()).dataUsedBlocks).toBe(used); // nothing copied
    expect(await sha256Of(await d.activate('clone'), SIZE)).toBe(want);
    await d.deactivate('clone');

    mp = await d.mount('clone');
    expect(await fs.readFile(path.join(mp, 'hello.txt'), 'utf8')).toBe('at the snapshot\n');
    expect((await fs.readFile(path.join(mp, 'data.bin'))).equals(data)).toBe(true);
    await fs.writeFile(path.join(mp, 'hello.txt'), 'clone later\n');
    await d.unmount('clone');
    const again = await d.backupSource('origin', 'snap');
    expect((await blockHashes(again.source)).all).toBe(want); // the snapshot is untouched
    await again.source.close();
    expect(await fs.readFile(path.join(await d.mount('origin'), 'hello.txt'), 'utf8')).toBe('origin later\n');
    await d.unmount('origin');
  });

  it("rolls a volume back to its snapshot in place: refused while mounted, then the snapshot's data, the old device gone", async () => {
    await d.create({ name: 'rb', size: SIZE });
    let mp = await d.mount('rb');
    const data = randomBytes(4 * MiB);
    await fs.writeFile(path.join(mp, 'data.bin'), data);
    await d.snapshotCreate('rb', 'before');
    await fs.writeFile(path.join(mp, 'data.bin'), randomBytes(4 * MiB));
    await fs.writeFile(path.join(mp, 'later.txt'), 'written after the snapshot\n');
    await expect(d.snapshotRestore('rb', 'before')).rejects.toMatchObject({ code: 'CONVOY_VOLUME_IN_USE' });
    await d.unmount('rb');
    const uuid = (await d.get('rb'))!.uuid;
    const oldId = (await d.get('rb'))!.deviceId;
    await d.snapshotRestore('rb', 'before');
    const now = (await d.get('rb'))!;
    expect(now.uuid).toBe(uuid);
    expect(now.deviceId).not.toBe(oldId);
    expect(await d.poolDeviceIds()).not.toContain(oldId);
    mp = await d.mount('rb');
    expect((await fs.readFile(path.join(mp, 'data.bin'))).equals(data)).toBe(true);
    await expect(fs.stat(path.join(mp, 'later.txt'))).rejects.toThrow(/ENOENT/);
    await d.unmount('rb');
    expect((await d.snapshotList('rb')).map((s) => s.name)).toEqual(['before']);
  });
});
