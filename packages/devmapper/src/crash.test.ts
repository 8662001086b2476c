import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '@convoy/objectstore/testing';
import type { DevmapperDriver, FaultStep } from './index.js';
import { MiB, fakeEnv, type FakeEnv, recordedAndPooled } from './testing/fake-env.js';

let env: FakeEnv;
beforeEach(async () => {
  env = await fakeEnv();
});
afterEach(async () => {
  await env.dispose();
});

/** A fault hook that freezes the operation at `step` for good, as if the process died there. */
function dieAt(step: FaultStep): { faults: (s: FaultStep) => Promise<void>; reached: Promise<void> } {
  let reached!: () => void;
  const p = new Promise<void>((r) => (reached = r));
  return {
    faults: async (s) => {
      if (s !== step) return;
      reached();
      await new Promise<never>(() => undefined);
    },
    reached: p,
  };
}

async function consistent(d: DevmapperDriver): Promise<void> {
  const { recorded, pooled } = await recordedAndPooled(d);
  expect(pooled).toEqual(recorded);
}

describe('a crash between steps leaves no orphan and no dangling record', () => {
  const cases: {
    step: FaultStep;
    label: string;
    op: (d: DevmapperDriver) => Promise<unknown>;
    expectVolumes: string[];
    expectSnaps: string[];
  }[] = [
    {
      step: 'create:journaled',
      label: 'create',
      op: (d) => d.create({ name: 'new', size: MiB }),
      expectVolumes: ['v', 'w'],
      expectSnaps: ['s0'],
    },
    {
      step: 'create:thin-created',
      label: 'create',
      op: (d) => d.create({ name: 'new', size: MiB }),
      expectVolumes: ['v', 'w'],
      expectSnaps: ['s0'],
    },
    {
      step: 'snapshot:journaled',
      label: 'snapshot create',
      op: (d) => d.snapshotCreate('v', 's1'),
      expectVolumes: ['v', 'w'],
      expectSnaps: ['s0'],
    },
    {
      step: 'snapshot:suspended',
      label: 'snapshot create',
      op: (d) => d.snapshotCreate('v', 's1'),
      expectVolumes: ['v', 'w'],
      expectSnaps: ['s0'],
    },
    {
      step: 'snapshot:created',
      label: 'snapshot create',
      op: (d) => d.snapshotCreate('v', 's1'),
      expectVolumes: ['v', 'w'],
      expectSnaps: ['s0'],
    },
    {
      step: 'delete:journaled',
      label: 'snapshot delete',
      op: (d) => d.snapshotDelete('v', 's0'),
      expectVolumes: ['v', 'w'],
      expectSnaps: [],
    },
    {
      step: 'delete:deleted',
      label: 'snapshot delete',
      op: (d) => d.snapshotDelete('v', 's0'),
      expectVolumes: ['v', 'w'],
      expectSnaps: [],
    },
    { step: 'delete:journaled', label: 'volume delete', op: (d) => d.remove('w'), expectVolumes: ['v'], expectSnaps: ['s0'] },
  ];

  for (const c of cases) {
    it(`${c.label}, stopped at ${c.step}`, async () => {
      const setup = await env.start();
      await setup.create({ name: 'v', size: 4 * MiB });
      await setup.snapshotCreate('v', 's0');
      await setup.create({ name: 'w', size: MiB });
      await setup.mount('v'); // active, so a snapshot suspends it
      const { faults, reached } = dieAt(c.step);
      const crashing = await env.start({ faults });
      void c.op(crashing); // never settles
      await reached;

      const d = await env.start();
      expect(d.startReport.settled).toHaveLength(1);
      expect(env.kernel.devices.get('convoy-pool-vol-1')?.suspended).toBe(false); // resumed if a crash left it suspended
      const vols = (await d.list()).map((v) => v.name);
      expect(vols).toEqual(c.expectVolumes);
      expect((await d.snapshotList('v')).map((s) => s.name)).toEqual(c.expectSnaps);
      await consistent(d);
      // and the driver works on: the interrupted operation can be repeated
      if (c.step.startsWith('create')) expect((await d.create({ name: 'new', size: MiB })).name).toBe('new');
      if (c.step.startsWith('snapshot')) expect((await d.snapshotCreate('v', 's1')).name).toBe('s1');
      await consistent(d);
    });
  }

  it('mount: a crash right after the mount leaves a mount the restarted driver knows (mount again, unmount, delete)', async () => {
    const setup = await env.start();
    await setup.create({ name: 'v', size: 4 * MiB });
    const { faults, reached } = dieAt('mount:mounted');
    const crashing = await env.start({ faults });
    void crashing.mount('v'); // never settles
    await reached;

    const d = await env.start();
    const mp = path.join(env.dir, 'root', 'mounts', 'v');
    expect(d.startReport.mountsCleared).toEqual([]);
    expect((await d.get('v'))?.mountpoint).toBe(mp); // recorded before the mount, so known after the crash
    expect(await d.mount('v')).toBe(mp); // re-runnable: not "mountpoint is busy"
    await d.unmount('v');
    expect(env.kernel.mounts.size).toBe(0);
    await d.remove('v');
    expect(await d.list()).toEqual([]);
    await consistent(d);
  });

  it('mount: a crash after recording the mountpoint, before the mount, is cleared on start', async () => {
    const setup = await env.start();
    await setup.create({ name: 'v', size: 4 * MiB });
    const { faults, reached } = dieAt('mount:recorded');
    const crashing = await env.start({ faults });
    void crashing.mount('v');
    await reached;

    const d = await env.start();
    expect(d.startReport.mountsCleared).toEqual(['v']);
    expect((await d.get('v'))?.mountpoint).toBeUndefined();
    expect(env.kernel.devices.has('convoy-pool-vol-1')).toBe(false); // deactivated
    expect(await d.mount('v')).toBe(path.join(env.dir, 'root', 'mounts', 'v'));
    await d.unmount('v');
    await d.remove('v');
    await consistent(d);
  });

  it('restore: a crash while writing leaves no half-restored volume', async () => {
    const { MemoryObjectStore } = await import('@convoy/objectstore/testing');
    const store = new MemoryObjectStore();
    const setup = await env.start();
    await setup.create({ name: 'v', size: 4 * MiB });
    await setup.snapshotCreate('v', 's0');
    const b = await setup.backup({ volume: 'v', snapshot: 's0', store });
    for (const step of ['restore:created', 'restore:written'] as const) {
      const { faults, reached } = dieAt(step);
      const crashing = await env.start({ faults });
      void crashing.restore({ volume: 'r', store, backupVolume: 'v', backupId: b.id });
      await reached;
      const d = await env.start();
      expect(d.startReport.settled).toMatchObject([{ op: 'create', volume: 'r' }]);
      expect(await d.get('r')).toBeUndefined();
      await consistent(d);
    }
  });

  it('an operation that fails (not a crash) cleans up at once', async () => {
    let fail = true;
    const d = await env.start({
      faults: (s) => {
        if (fail && (s === 'create:thin-created' || s === 'snapshot:created')) throw new Error(`injected at ${s}`);
      },
    });
    expect(await rejectionOf(d.create({ name: 'x', size: MiB }))).toMatchObject({ message: 'injected at create:thin-created' });
    fail = false;
    await d.create({ name: 'v', size: MiB });
    await d.mount('v');
    fail = true;
    expect(await rejectionOf(d.snapshotCreate('v', 's'))).toMatchObject({ message: 'injected at snapshot:created' });
    expect(env.kernel.devices.get('convoy-pool-vol-2')?.suspended).toBe(false);
    expect(await d.list()).toMatchObject([{ name: 'v', snapshots: [] }]);
    await consistent(d);
  });

  it('deletes orphans this root allocated, drops records whose device is gone, removes stray devices', async () => {
    const d = await env.start();
    await d.create({ name: 'v', size: MiB });
    await d.create({ name: 'lost', size: MiB });
    await d.create({ name: 'gone', size: MiB });
    await d.snapshotCreate('v', 's');
    await d.backupSource('v', 's'); // abandoned: its read-only device stays active
    expect(env.kernel.devices.has('convoy-pool-snap-4')).toBe(true);
    // a state write lost after create_thin (record gone, id allocated), a device deleted behind our back
    const file = path.join(env.dir, 'root', 'state.json');
    const state = JSON.parse(await fs.readFile(file, 'utf8')) as { volumes: Record<string, unknown> };
    delete state.volumes.lost;
    await fs.writeFile(file, JSON.stringify(state));
    await env.dm.message('convoy-pool', 'delete 3');

    const again = await env.start();
    expect(again.startReport).toMatchObject({ orphansDeleted: [2], droppedRecords: ['gone'], devicesRemoved: ['convoy-pool-snap-4'] });
    expect((await again.list()).map((v) => v.name)).toEqual(['v']);
    await consistent(again);
  });

  it('refuses to start when the pool holds thin devices this root never allocated', async () => {
    const d = await env.start();
    await d.create({ name: 'v', size: MiB });
    await env.dm.message('convoy-pool', 'create_thin 1000');
    expect(await rejectionOf(env.start())).toMatchObject({
      code: 'CONVOY_POOL_MISMATCH',
      message: expect.stringContaining('thin devices 1000'),
    });
  });
});
