// `convoy snapshot restore` on devicemapper: the volume rolled back to a snapshot in place, refused
// while mounted, and a crash at any step leaving either the old or the rolled-back volume (never
// neither, never an orphan device).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '@convoy/objectstore/testing';
import type { DevmapperDriver, FaultStep } from './index.js';
import { MiB, fakeEnv, random, readAll, writeAt, type FakeEnv, recordedAndPooled } from './testing/fake-env.js';

let env: FakeEnv;
beforeEach(async () => {
  env = await fakeEnv();
});
afterEach(async () => {
  await env.dispose();
});

const SIZE = 4 * MiB;

async function content(d: DevmapperDriver, volume: string): Promise<Buffer> {
  const data = await readAll(await d.activate(volume), SIZE);
  await d.deactivate(volume);
  return data;
}

/** v with content `before` in snapshot s0, then overwritten with `after`. */
async function setup(d: DevmapperDriver): Promise<{ before: Buffer; after: Buffer }> {
  await d.create({ name: 'v', size: SIZE });
  const before = random(SIZE);
  await writeAt(await d.activate('v'), 0, before);
  await d.deactivate('v');
  await d.snapshotCreate('v', 's0');
  const after = random(SIZE);
  await writeAt(await d.activate('v'), 0, after);
  await d.deactivate('v');
  return { before, after };
}

async function consistent(d: DevmapperDriver): Promise<void> {
  const { recorded, pooled } = await recordedAndPooled(d);
  expect(pooled).toEqual(recorded);
}

describe('devicemapper snapshot restore', () => {
  it('rolls the volume back in place: same name and UUID, the snapshot kept, later changes gone', async () => {
    const d = await env.start();
    const { before } = await setup(d);
    const uuid = (await d.get('v'))!.uuid;
    await d.snapshotRestore('v', 's0');
    expect((await d.get('v'))!.uuid).toBe(uuid);
    expect((await content(d, 'v')).equals(before)).toBe(true);
    expect((await d.snapshotList('v')).map((s) => s.name)).toEqual(['s0']);
    await consistent(d);
    // the snapshot is unchanged by writes to the rolled-back volume
    await writeAt(await d.activate('v'), 0, random(SIZE));
    await d.deactivate('v');
    await d.snapshotRestore('v', 's0');
    expect((await content(d, 'v')).equals(before)).toBe(true);
    await consistent(d);
  });

  it('is refused while the volume is mounted, and for an unknown snapshot', async () => {
    const d = await env.start();
    await setup(d);
    await d.mount('v');
    const err = await rejectionOf(d.snapshotRestore('v', 's0'));
    expect(err.code).toBe('CONVOY_VOLUME_IN_USE');
    expect(err.hint).toContain('umount');
    await d.unmount('v');
    expect((await rejectionOf(d.snapshotRestore('v', 'nope'))).code).toBe('CONVOY_SNAPSHOT_NOT_FOUND');
  });

  for (const step of ['rollback:journaled', 'rollback:created', 'rollback:switched'] as const satisfies FaultStep[]) {
    it(`a crash at ${step} leaves the volume whole (old before the switch, rolled back after) and no orphan`, async () => {
      const setupDriver = await env.start();
      const { before, after } = await setup(setupDriver);
      let reached!: () => void;
      const at = new Promise<void>((r) => (reached = r));
      const crashing = await env.start({
        faults: async (s) => {
          if (s !== step) return;
          reached();
          await new Promise<never>(() => undefined);
        },
      });
      void crashing.snapshotRestore('v', 's0');
      await at;
      const d = await env.start();
      expect(d.startReport.settled).toHaveLength(1);
      const want = step === 'rollback:switched' ? before : after;
      expect((await content(d, 'v')).equals(want)).toBe(true);
      await consistent(d);
      await d.snapshotRestore('v', 's0'); // and it can be run again
      expect((await content(d, 'v')).equals(before)).toBe(true);
      await consistent(d);
    });
  }
});
