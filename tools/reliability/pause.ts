// Campaign 2, pause trials: a backup is stopped (SIGSTOP) after its first blocks; while it is
// stopped an older backup of the same volume is deleted and two `maintenance --full --grace 0s`
// run (the first marks what nothing references — the paused backup's fresh blocks and the
// deleted backup's — the second deletes it); then SIGCONT. The backup must exit 0 and restore
// bit-exact (its commit guard uploads again what the sweep removed), or fail cleanly without
// committing; verify stays clean and every other backup restores. A trial "past the lease"
// shortens leases (lease-ttl.ts) and stays stopped longer than one, so the backup resumes with a
// lost lease, as in gc-safety.md's first race.
import { setTimeout as delay } from 'node:timers/promises';
import { blockKey, mutate } from './images.js';
import { describePoint, signalAt, type KillPoint } from './kill-point.js';
import type { Rng } from './prng.js';
import type { StoreTarget } from './stores.js';
import { Trial, runTrial } from './trial.js';
import { World, type Backup } from './world.js';
import { checkNoLeak } from './world-gc.js';
import type { Size } from './config.js';

export interface PauseTrialSpec {
  n: number;
  pastLease: boolean;
  rng: Rng;
}

export function planPause(rng: Rng, size: Size): PauseTrialSpec[] {
  return Array.from({ length: size.pause.trials }, (_, i) => ({
    n: i + 1,
    pastLease: size.pause.pastLease && i % 2 === 1,
    rng: rng.fork(`trial-${i + 1}`),
  }));
}

export const sleep = (ms: number): Promise<void> => delay(ms);

interface MaintenanceJson {
  sweep?: { blocksDeleted?: number; blocksMarked?: number; blocksSpared?: number };
}

export async function pauseTrial(spec: PauseTrialSpec, store: StoreTarget, dir: string, size: Size, resultsFile: string): Promise<void> {
  const lease = spec.pastLease ? 'past its lease' : 'within its lease';
  const trial = new Trial(
    'pause',
    store.kind,
    spec.pastLease ? 'past-lease' : 'within-lease',
    `pause ${store.kind} #${spec.n} ${lease}`,
    spec.rng.seed,
  );
  const leaseTtlMs = spec.pastLease ? size.leaseTtlMs : undefined; // undefined: the CLI's own 150 s
  const w = new World({ store, dir, leaseTtlMs, timeoutMs: size.timeoutMs });
  await runTrial(trial, resultsFile, async () => {
    const rng = spec.rng;
    const v = await w.addVolume('paused', rng, size.pause.regions);
    const older = await w.create(trial, v);
    await w.setState(v, mutate(rng, v.state, 0.3).state);
    const parent = await w.create(trial, v);
    await w.setState(v, mutate(rng, v.state, 0.6).state);
    const blocksBefore = (await store.raw.list('blocks/')).length;

    const point: KillPoint = { anchor: 'first-progress', delayMs: rng.int(0, 40) };
    const run = w.start(w.createArgs(v));
    const stop = await signalAt(run, point, 'SIGSTOP');
    if (!stop.killed) {
      const r = trial.ran(await run.done);
      trial.outcome('completed before the pause');
      trial.check('an uninterrupted backup succeeds', r.code === 0, `exit ${r.code} ${r.errorCode ?? ''}`);
      if (r.code === 0) w.adopt(v, r, v.state);
    } else {
      const stoppedAt = performance.now();
      trial.fault(`SIGSTOP create at ${describePoint(point)} (${stop.progressLinesAtKill} progress line(s))`);
      trial.measure('blocksUploadedBeforePause', (await store.raw.list('blocks/')).length - blocksBefore);
      let resumed = false;
      try {
        const del = await w.run(trial, ['delete', older.url, '--json']);
        trial.check(
          'delete of an older backup succeeds while a backup is paused',
          del.code === 0,
          `exit ${del.code} ${del.errorCode ?? ''} ${del.errorMessage ?? ''}`,
        );
        if (del.code === 0) w.forget(older);
        trial.fault(`delete ${older.id} while paused`);
        let deleted = 0;
        let marked = 0;
        for (let i = 0; i < 2; i++) {
          const m = await w.run(trial, ['maintenance', store.url, '--full', '--grace', '0s', '--json']);
          trial.check(
            'full maintenance succeeds while a backup is paused',
            m.code === 0,
            `exit ${m.code} ${m.errorCode ?? ''} ${m.errorMessage ?? ''}`,
          );
          deleted += (m.json as MaintenanceJson | undefined)?.sweep?.blocksDeleted ?? 0;
          marked += (m.json as MaintenanceJson | undefined)?.sweep?.blocksMarked ?? 0;
        }
        trial.fault('2 × maintenance --full --grace 0s while paused');
        trial.measure('blocksMarkedWhilePaused', marked);
        trial.measure('blocksDeletedWhilePaused', deleted);
        // Blocks the paused backup will reference that the sweeps removed: what its commit guard must upload again.
        const present = new Set(await store.raw.list('blocks/'));
        const ids = new Set(v.state.blockIds.filter((id): id is string => id !== null));
        trial.measure('blocksOfPausedBackupSwept', [...ids].filter((id) => !present.has(blockKey(id))).length);
        if (spec.pastLease) await sleep(Math.max(0, size.leaseTtlMs + 2_000 - (performance.now() - stoppedAt)));
        trial.measure('pausedMs', Math.round(performance.now() - stoppedAt));
        run.signal('SIGCONT');
        resumed = true;
      } finally {
        if (!resumed) run.signal('SIGCONT');
      }
      const r = trial.ran(await run.done);
      if (r.code === 0) {
        trial.outcome(`resumed and committed after ${Math.round(trial.record.measures.pausedMs ?? 0)} ms stopped`);
        trial.check('the resumed backup commits', true);
        w.adopt(v, r, v.state);
      } else {
        trial.outcome(`resumed and failed: ${r.errorCode ?? r.code}`);
        trial.check(
          'a resumed backup that fails, fails cleanly (exit 1 with an error code)',
          r.code === 1 && r.errorCode !== undefined && !r.timedOut,
          `exit ${r.code} signal ${r.signal} ${r.stderr.slice(-300)}`,
        );
      }
    }
    await w.verifyClean(trial);
    await w.reconcile(trial);
    await w.restoreAll(trial);
    trial.check(
      'the parent backup survived',
      w.backups().some((b: Backup) => b.id === parent.id),
      `${parent.id} is gone`,
    );
    // What the sweeps left must hold up under two more.
    for (let i = 0; i < 2; i++) {
      const m = await w.fullMaintenance(trial);
      trial.check('full maintenance succeeds after the trial', m.code === 0, `exit ${m.code} ${m.errorCode ?? ''}`);
    }
    await w.verifyClean(trial);
    await w.restoreAll(trial);
    await checkNoLeak(w, trial);
  });
}
