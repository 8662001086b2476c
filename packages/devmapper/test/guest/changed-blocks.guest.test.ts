// Exact changed-block counts on a raw thin device, the libdevmapper binding's error codes, and
// reconciliation after a "crash" with the origin left suspended, on a real kernel (dm guest).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type ObjectStore } from '@convoy/objectstore';
import { rejectionOf } from '@convoy/objectstore/testing';
import { DevmapperDriver, LibDmApi, type DevmapperDriverOptions, type FaultStep } from '../../src/index.js';
import { BLOCK, MiB, assertInGuest, resetDeviceMapper, scratch, sha256Of, writeAt } from './guest-helpers.js';

let dir: string;
let store: ObjectStore;
let opts: DevmapperDriverOptions;

beforeAll(async () => {
  assertInGuest();
  resetDeviceMapper();
  dir = await scratch('changed');
  store = await openStore(`vfs://${dir}/store`);
  opts = { root: `${dir}/root`, thinPoolName: 'guest-cb', loopDataSize: 512 * MiB, loopMetadataSize: 16 * MiB };
});

afterAll(() => {
  resetDeviceMapper();
});

describe('changed blocks on a raw thin volume', () => {
  it('an incremental backup reads exactly the rewritten, new and discarded blocks', async () => {
    const d = await DevmapperDriver.start(opts);
    await d.create({ name: 'raw', size: 40 * MiB });
    const dev = await d.activate('raw');
    await writeAt(dev, 0, randomBytes(10 * BLOCK)); // blocks 0-9
    await d.snapshotCreate('raw', 'a');
    const full = await d.backup({ volume: 'raw', snapshot: 'a', store });
    // a full backup reads only what the device maps (thin_delta of the snapshot against itself)
    expect(full.manifest.stats).toMatchObject({ blocksTotal: 20, blocksRead: 10, blocksNonZero: 10 });

    await writeAt(dev, 3 * BLOCK + 100, randomBytes(10)); // block 3, a few bytes
    await writeAt(dev, 7 * BLOCK, randomBytes(BLOCK + 1)); // blocks 7 and 8
    // block 15, new: one byte that is never 0 (a random byte is 0 one time in 256, and block 15 would
    // then be all zeros, not stored: the flake of 'blocksNonZero 9 vs 10')
    await writeAt(dev, 15 * BLOCK + 5, Buffer.from([0xa5]));
    execFileSync('blkdiscard', ['-o', String(5 * BLOCK), '-l', String(BLOCK), dev]); // block 5 unmapped
    await d.snapshotCreate('raw', 'b');
    const src = await d.backupSource('raw', 'b', { parentSnapshot: 'a' });
    expect(src.changed).toEqual([
      { offset: 3 * BLOCK, length: BLOCK },
      { offset: 5 * BLOCK, length: BLOCK },
      { offset: 7 * BLOCK, length: 2 * BLOCK },
      { offset: 15 * BLOCK, length: BLOCK },
    ]);
    await src.source.close();
    const inc = await d.backup({ volume: 'raw', snapshot: 'b', store });
    expect(inc).toMatchObject({ parentSnapshot: 'a', changedBlocks: 5 });
    expect(inc.manifest.stats).toMatchObject({ blocksRead: 5, blocksNonZero: 10 }); // 0-9 minus 5, plus 15

    // restore: bit-identical to b, 10 pool blocks allocated
    const r = await d.restore({ volume: 'back', store, backupVolume: 'raw', backupId: inc.id });
    const snap = await d.backupSource('raw', 'b');
    const want = await sha256Of(snap.source.device, 40 * MiB);
    await snap.source.close();
    expect(await sha256Of(await d.activate('back'), r.size)).toBe(want);
    await d.deactivate('back');
    await d.deactivate('raw');
    for (const s of ['a', 'b']) await d.snapshotDelete('raw', s);
    await d.remove('raw');
    await d.remove('back');
    expect((await d.status()).dataUsedBlocks).toBe(0);
    await d.destroyPool();
  });

  it('a crash with the origin suspended is settled by the next start: origin resumed, no orphan', async () => {
    const d = await DevmapperDriver.start(opts);
    const { deviceId } = await d.create({ name: 'v', size: 16 * MiB });
    const dev = `guest-cb-vol-${deviceId}`;
    await d.mount('v');
    let reached!: () => void;
    const at = new Promise<void>((r) => (reached = r));
    const faults = async (s: FaultStep): Promise<void> => {
      if (s !== 'snapshot:created') return;
      reached();
      await new Promise<never>(() => undefined);
    };
    const crashing = await DevmapperDriver.start({ ...opts, faults });
    void crashing.snapshotCreate('v', 'lost');
    await at;
    const dm = await LibDmApi.open();
    expect((await dm.info(dev)).suspended).toBe(true);

    const again = await DevmapperDriver.start(opts);
    expect(again.startReport.settled).toMatchObject([{ op: 'snapshot', snapshot: 'lost' }]);
    expect((await dm.info(dev)).suspended).toBe(false);
    expect(await again.snapshotList('v')).toEqual([]);
    expect(await again.poolDeviceIds()).toEqual([deviceId]);
    await again.unmount('v');
    await again.remove('v');
    await again.destroyPool();
  });
});

describe('libdevmapper through koffi', () => {
  it('reports kernel errors by errno, with libdm messages', async () => {
    const dm = await LibDmApi.open();
    expect(await dm.version()).toMatch(/^4\.\d+\.\d+$/);
    expect((await dm.info('no-such-device')).exists).toBe(false);
    expect(await rejectionOf(dm.suspend('no-such-device'))).toMatchObject({
      code: 'CONVOY_DM_FAILED',
      errno: 'ENXIO',
      message: expect.stringContaining('No such device'),
    });
    await dm.create('koffi-test');
    expect(await rejectionOf(dm.create('koffi-test'))).toMatchObject({ errno: 'EBUSY' }); // the kernel's answer to a taken name
    expect(await rejectionOf(dm.load('koffi-test', [{ start: 0, length: 8, type: 'no-such-target', params: '' }]))).toMatchObject({
      code: 'CONVOY_DM_FAILED',
    });
    // 'error' is built into dm-mod (the guest has no module loader for dm-zero and friends)
    await dm.load('koffi-test', [{ start: 0, length: 2048, type: 'error', params: '' }]);
    await dm.resume('koffi-test');
    expect(await dm.table('koffi-test')).toEqual([{ start: 0, length: 2048, type: 'error', params: '' }]);
    expect((await dm.list()).map((x) => x.name)).toContain('koffi-test');
    const info = await dm.info('koffi-test');
    expect(info).toMatchObject({ exists: true, liveTable: true, suspended: false, major: 253 });
    expect(await rejectionOf(sha256Of(dm.devicePath('koffi-test'), MiB))).toMatchObject({ code: 'EIO' });
    expect(await rejectionOf(dm.message('koffi-test', 'hello'))).toMatchObject({ code: 'CONVOY_DM_FAILED' });
    await dm.remove('koffi-test');
    expect((await dm.info('koffi-test')).exists).toBe(false);
  });
});
