import fs from 'node:fs/promises';
import path from 'node:path';
import { isConvoyError } from '@convoy/errors';
import type { DriverCore } from './core.js';
import { DevmapperError } from './errors.js';
import { knownDeviceIds, type PendingOp } from './state.js';

export interface ReconcileReport {
  /** Journaled operations a previous process left unfinished, now settled. */
  settled: PendingOp[];
  /** Records whose thin device is not in the pool ("volume" or "volume/snapshot"), dropped. */
  droppedRecords: string[];
  /** Thin devices in the pool that no record or journal entry knew, deleted. */
  orphansDeleted: number[];
  /** dm devices of this pool left active without a reason (crashed backups, …), removed. */
  devicesRemoved: string[];
  /** Volumes recorded as mounted that are not mounted any more. */
  mountsCleared: string[];
  /** False when thin_ls was not available and the pool was not listed. */
  poolListed: boolean;
}

/**
 * Brings the state file and the pool into agreement on start (under the driver lock; why that
 * always works after a crash: docs/devmapper-crash-safety.md):
 *  1. release a metadata snapshot a crashed process held;
 *  2. settle journaled operations (roll back creates and snapshots, roll forward deletes);
 *  3. remove dm devices of this pool nobody should hold: snapshot devices (no backup runs yet)
 *     and volume devices without a volume;
 *  4. list the pool's thin devices (thin_ls): drop records whose device is gone, delete devices
 *     no record knows — only ids this root allocated; a higher id means the state file is older
 *     than the pool, and the driver refuses to start rather than delete someone's volume;
 *  5. forget mountpoints that are no longer mounted.
 */
export async function reconcile(c: DriverCore): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    settled: [],
    droppedRecords: [],
    orphansDeleted: [],
    devicesRemoved: [],
    mountsCleared: [],
    poolListed: false,
  };
  let dirty = false;

  if ((await c.pool.status()).heldMetadataRoot !== undefined) await c.dm.message(c.pool.name, 'release_metadata_snap');

  for (const op of [...c.state.pending]) {
    c.log(
      'warn',
      `settling an interrupted ${op.op} of ${op.volume}${op.op === 'create' || op.op === 'delete' ? '' : `/${op.snapshot}`} (thin device ${op.deviceId})`,
    );
    await c.settle(op);
    report.settled.push(op);
  }

  const volumeIds = new Set(Object.values(c.state.volumes).map((v) => v.deviceId));
  const volPrefix = `${c.o.thinPoolName}-vol-`;
  const snapPrefix = `${c.o.thinPoolName}-snap-`;
  for (const d of await c.dm.list()) {
    const stray = d.name.startsWith(snapPrefix) || (d.name.startsWith(volPrefix) && !volumeIds.has(Number(d.name.slice(volPrefix.length))));
    if (!stray) continue;
    try {
      await c.pool.deactivate(d.name);
      report.devicesRemoved.push(d.name);
    } catch (err) {
      c.log('warn', `cannot remove stray device ${d.name}: ${(err as Error).message}`);
    }
  }

  let inPool: Set<number> | undefined;
  try {
    inPool = new Set(await c.pool.listThinIds());
    report.poolListed = true;
  } catch (err) {
    if (!isConvoyError(err, 'CONVOY_TOOL_MISSING')) throw err;
    c.log('warn', `${(err as Error).message}: the pool was not compared with the state (install thin-provisioning-tools)`);
  }
  if (inPool !== undefined) {
    const pool = inPool;
    for (const v of Object.values(c.state.volumes)) {
      for (const s of Object.values(v.snapshots)) {
        if (!pool.has(s.deviceId)) {
          delete v.snapshots[s.name];
          report.droppedRecords.push(`${v.name}/${s.name}`);
        }
      }
      if (!pool.has(v.deviceId)) {
        if (Object.keys(v.snapshots).length > 0) {
          // never delete snapshots behind the user's back: keep the record so they stay reachable
          c.log('warn', `volume ${v.name} has lost its thin device ${v.deviceId}; its snapshots remain (back them up or delete them)`);
          continue;
        }
        delete c.state.volumes[v.name];
        report.droppedRecords.push(v.name);
      }
    }
    const known = knownDeviceIds(c.state);
    const foreign = [...pool].filter((id) => !known.has(id) && id >= c.state.nextDeviceId);
    if (foreign.length > 0) {
      throw new DevmapperError(
        'CONVOY_POOL_MISMATCH',
        `pool ${c.pool.name} holds thin devices ${foreign.join(', ')} that ${c.file.path} never allocated`,
        {
          hint: 'the state file is older than the pool (restored from a backup?) or another program uses the pool; restore the current state file, or use a pool of its own',
        },
      );
    }
    for (const id of pool) {
      if (known.has(id)) continue;
      await c.pool.deactivate(c.volumeDevice(id));
      await c.pool.deleteThin(id, true);
      report.orphansDeleted.push(id);
    }
    if (report.droppedRecords.length > 0) c.log('warn', `dropped records whose thin device is gone: ${report.droppedRecords.join(', ')}`);
    if (report.orphansDeleted.length > 0) c.log('warn', `deleted thin devices no record knew: ${report.orphansDeleted.join(', ')}`);
    dirty ||= report.droppedRecords.length > 0;
  }

  for (const v of Object.values(c.state.volumes)) {
    if (v.mountpoint === undefined) continue;
    const info = await c.dm.info(c.volumeDevice(v.deviceId));
    const mounts = info.exists ? await c.host.mountsOf(info.major, info.minor) : [];
    const want = await fs.realpath(v.mountpoint).catch(() => path.resolve(v.mountpoint as string));
    if (mounts.includes(want)) continue;
    if (info.exists) await c.pool.deactivate(c.volumeDevice(v.deviceId)).catch(() => undefined);
    delete v.mountpoint;
    report.mountsCleared.push(v.name);
    dirty = true;
  }

  if (dirty) await c.save();
  return report;
}
