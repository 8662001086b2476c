// Thin snapshots: create (journaled, the origin suspended while the kernel snapshots it) and
// delete. DevmapperDriver's snapshot methods run these under its lock.
import { randomUUID } from 'node:crypto';
import { validateSnapshotName } from '@convoy/rules';
import type { DriverCore } from './core.js';
import { DevmapperError } from './errors.js';
import { snapshotInfo, type ThinSnapshotInfo } from './info.js';
import { mountedAt } from './mounts.js';
import { allocateDeviceId, type SnapshotRecord } from './state.js';

/** Takes a snapshot: a mounted (active) volume is suspended — its filesystem frozen — around create_snap. */
export async function createSnapshot(c: DriverCore, volume: string, name: string, options: { uuid?: string }): Promise<ThinSnapshotInfo> {
  validateSnapshotName(name);
  return c.lock(async () => {
    const v = c.volume(volume);
    if (v.snapshots[name] !== undefined) {
      throw new DevmapperError('CONVOY_SNAPSHOT_EXISTS', `snapshot ${name} of ${volume} already exists`, {
        hint: 'choose another snapshot name',
      });
    }
    const id = allocateDeviceId(c.state);
    const op = { op: 'snapshot', deviceId: id, volume, snapshot: name, origin: v.deviceId, started: c.now().toISOString() } as const;
    await c.journal(op);
    await c.fault('snapshot:journaled');
    try {
      const dev = c.volumeDevice(v.deviceId);
      const info = await c.dm.info(dev);
      const active = info.exists && info.liveTable;
      if (active) {
        await c.dm.suspend(dev);
        await c.fault('snapshot:suspended');
      }
      try {
        await c.pool.createSnapshot(id, v.deviceId);
        await c.fault('snapshot:created');
      } finally {
        if (active) await c.dm.resume(dev);
      }
    } catch (err) {
      await c.settle(op).catch(() => undefined);
      throw err;
    }
    const s: SnapshotRecord = {
      name,
      uuid: options.uuid ?? randomUUID(),
      deviceId: id,
      size: v.size,
      createdAt: c.now().toISOString(),
      backups: {},
    };
    v.snapshots[name] = s;
    c.unjournal(id);
    await c.save();
    return snapshotInfo(volume, s);
  });
}

/** Deletes a snapshot (journaled: a crash between the steps is rolled forward on start). */
export async function deleteSnapshot(c: DriverCore, volume: string, name: string): Promise<void> {
  await c.lock(async () => {
    const { v, s } = c.snapshot(volume, name);
    if (c.busy.has(`${volume}/${name}`)) {
      throw new DevmapperError('CONVOY_SNAPSHOT_IN_USE', `snapshot ${name} of ${volume} is being backed up`, {
        hint: 'wait for the backup to finish',
      });
    }
    const op = { op: 'delete', deviceId: s.deviceId, volume, snapshot: name, started: c.now().toISOString() } as const;
    delete v.snapshots[name];
    await c.journal(op);
    await c.fault('delete:journaled');
    try {
      await c.pool.deactivate(c.snapshotDevice(s.deviceId));
      await c.pool.deleteThin(s.deviceId, true);
      await c.fault('delete:deleted');
    } catch (err) {
      v.snapshots[name] = s;
      c.unjournal(s.deviceId);
      await c.save();
      throw err;
    }
    c.unjournal(s.deviceId);
    await c.save();
  });
}

/**
 * Rolls a volume back to one of its snapshots, in place (same name, UUID and mountpoint): a new
 * thin snapshot of the snapshot becomes the volume's device, and the old device is deleted.
 * Refused while the volume is mounted. Two journal entries make it atomic against a crash
 * (docs/devmapper-crash-safety.md): until the switch the new device is a pending create (a crash
 * deletes it: the volume is as it was); the switch saves the volume's new device id and the old
 * device as a pending delete in one write (a crash deletes the old device: the rollback is done).
 */
export async function rollBackToSnapshot(c: DriverCore, volume: string, name: string): Promise<void> {
  await c.lock(async () => {
    const { v, s } = c.snapshot(volume, name);
    if (v.mountpoint !== undefined && (await mountedAt(c, v)) !== undefined) {
      throw new DevmapperError(
        'CONVOY_VOLUME_IN_USE',
        `volume ${volume} is mounted on ${v.mountpoint}: it cannot be rolled back under its users`,
        {
          hint: `stop its containers (or \`convoy umount ${volume}\`), then restore the snapshot`,
          details: { volume },
        },
      );
    }
    const id = allocateDeviceId(c.state);
    const create = { op: 'create', deviceId: id, volume, started: c.now().toISOString() } as const;
    await c.journal(create);
    await c.fault('rollback:journaled');
    try {
      await c.pool.deactivate(c.volumeDevice(v.deviceId));
      // a snapshot's device is active only while a backup reads it, and then read-only: create_snap needs no suspend
      await c.pool.createSnapshot(id, s.deviceId);
      await c.fault('rollback:created');
    } catch (err) {
      await c.settle(create).catch(() => undefined);
      throw err;
    }
    const old = v.deviceId;
    v.deviceId = id;
    v.size = s.size;
    c.unjournal(id);
    await c.journal({ op: 'delete', deviceId: old, volume, started: c.now().toISOString() }); // one save: the switch
    await c.fault('rollback:switched');
    await c.pool.deleteThin(old, true);
    c.unjournal(old);
    await c.save();
  });
}
