// One scheduled backup run: a snapshot (named sched-<volume>-<UTC time>), its backup, the
// retention policy applied to the volume's backups in that store, and the snapshot deleted —
// whatever happened (thin pools fill up). Snapshots such a run left behind (the daemon was killed
// mid-run) are deleted when the daemon starts.
import { forgetBackups } from '@convoy/blockstore';
import type { ObjectStore } from '@convoy/objectstore';
import type { VolumeManager } from '@convoy/volumes';
import type { Logger } from '../logger.js';
import { systemTimers, type Timers } from '../maintenance.js';
import type { Operations } from '../operations.js';
import type { SchedulePolicy } from './policy.js';
import { BackupScheduler, type RunResult } from './scheduler.js';
import { ScheduleStore } from './store.js';

/** The daemon's scheduler of backups: policies under `root`, runs through `d`. */
export function backupScheduler(root: string, timers: Timers | undefined, d: Omit<RunDeps, 'now'>): BackupScheduler {
  const clock = timers ?? systemTimers;
  return new BackupScheduler({
    store: new ScheduleStore(root),
    log: d.log,
    timers: clock,
    run: scheduledRun({ ...d, now: () => clock.now() }),
    beforeStart: (volumes) => removeLeftoverSnapshots(d.manager, volumes, d.log),
  });
}

export interface RunDeps {
  manager: VolumeManager;
  ops: Operations;
  log: Logger;
  openStore(url: string): Promise<ObjectStore>;
  /** The store was used (scheduled maintenance keeps it tidy). */
  usedStore(url: string): void;
  now(): number;
}

const prefix = (volume: string): string => `sched-${volume}-`;
const stamp = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

export function scheduledRun(d: RunDeps): (p: SchedulePolicy, signal: AbortSignal) => Promise<RunResult> {
  return async (p, signal) => {
    const snap = await d.manager.snapshotCreate(p.volume, `${prefix(p.volume)}${stamp(d.now())}`);
    try {
      const { url } = await d.ops.run('backup', { volume: p.volume, snapshot: snap.name, url: p.dest, caller: 'cli' }, (onProgress) =>
        d.manager.backupCreate(snap.name, p.dest, { signal, onProgress, labels: { 'convoy.schedule': p.every ?? p.cron ?? '' } }),
      );
      d.usedStore(p.dest);
      let removed = 0;
      if (p.keep !== undefined && Object.keys(p.keep).length > 0) {
        const store = await d.openStore(p.dest);
        try {
          for (const dec of (await forgetBackups({ store, policy: p.keep, volume: p.volume, signal })).values())
            removed += dec.remove.length;
        } finally {
          await store.close();
        }
      }
      return { url, removed };
    } finally {
      await d.manager
        .snapshotDelete(snap.name)
        .catch((err: unknown) =>
          d.log.warn({ volume: p.volume, snapshot: snap.name, err: (err as Error).message }, 'cannot delete the scheduled snapshot'),
        );
    }
  };
}

/** At start: the snapshots runs of these volumes left when the daemon was killed mid-run. */
export async function removeLeftoverSnapshots(manager: VolumeManager, volumes: readonly string[], log: Logger): Promise<void> {
  if (volumes.length === 0) return;
  const { snapshots } = await manager.snapshotList();
  for (const s of snapshots) {
    if (!volumes.includes(s.volume) || !s.name.startsWith(prefix(s.volume))) continue;
    await manager.snapshotDelete(s.name).then(
      () => log.info({ volume: s.volume, snapshot: s.name }, 'removed the snapshot of an interrupted scheduled backup'),
      (err: unknown) =>
        log.warn({ snapshot: s.name, err: (err as Error).message }, 'cannot remove the snapshot of an interrupted scheduled backup'),
    );
  }
}
