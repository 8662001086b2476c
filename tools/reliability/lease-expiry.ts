// Lease-expiry trials, with the CLI's own leases (150 s, nothing shortened): a maintenance is
// killed with SIGKILL after its first progress line (its lease is in the store), and then, at
// once: a backup, a restore and a delete must not wait for that dead lease at all (they do not
// conflict with maintenance), and the next maintenance must take the lease over and succeed
// without CONVOY_STORE_LOCKED, having waited no longer than one lease expiry. These run in the
// background of the crash campaigns (they mostly wait).
import { setTimeout as sleep } from 'node:timers/promises';
import { mutate } from './images.js';
import type { CliRun } from './convoy.js';
import type { Rng } from './prng.js';
import type { StoreTarget } from './stores.js';
import { Trial, runTrial } from './trial.js';
import { World, type Backup } from './world.js';
import type { Size } from './config.js';

/** The CLI's lease TTL (packages/blockstore/src/lock.ts); the re-run may wait this long. */
export const DEFAULT_LEASE_TTL_MS = 150_000;

export async function leaseExpiryTrial(
  n: number,
  full: boolean,
  store: StoreTarget,
  dir: string,
  size: Size,
  rng: Rng,
  resultsFile: string,
): Promise<void> {
  const op = full ? 'maintenance-full' : 'maintenance';
  const trial = new Trial('lease-expiry', store.kind, op, `lease expiry ${store.kind} #${n} ${op}`, rng.seed);
  const w = new World({ store, dir, leaseTtlMs: undefined, timeoutMs: size.timeoutMs });
  await runTrial(trial, resultsFile, async () => {
    const v = await w.addVolume('leased', rng, 4);
    await w.create(trial, v);
    await w.setState(v, mutate(rng, v.state, 0.5).state);
    await w.create(trial, v);
    await w.delete(trial, v.backups[0] as Backup);
    const args = ['maintenance', store.url, '--json', ...(full ? ['--full', '--grace', '0s'] : [])];

    // Killed the moment its lease is in the store; a run that finishes first is tried again with new work.
    let leases: string[] = [];
    let killedAt = 0;
    for (let attempt = 1; attempt <= 5 && leases.length === 0; attempt++) {
      if (attempt > 1) {
        await w.setState(v, mutate(rng, v.state, 0.5).state);
        await w.create(trial, v);
        await w.delete(trial, v.backups[0] as Backup);
      }
      const run = w.start(args);
      const killed = await killWhenLeased(run, store);
      trial.ran(await run.done);
      killedAt = performance.now();
      leases = (await store.raw.list('locks/')).filter((k) => k.startsWith('locks/maintenance-'));
      trial.fault(
        `kill -9 ${op} ${killed ? 'as soon as its lease appeared in the store' : 'too late: it had finished'} (attempt ${attempt}; default lease TTL ${DEFAULT_LEASE_TTL_MS / 1000} s)`,
      );
    }
    trial.measure('deadMaintenanceLeases', leases.length);
    if (
      !trial.check(
        'a killed maintenance left its lease',
        leases.length === 1,
        `maintenance leases in the store after 5 attempts: ${leases.length}`,
      )
    )
      return;

    // Nothing else waits for a dead maintenance lease.
    await w.setState(v, mutate(rng, v.state, 0.5).state);
    const created = await w.run(trial, w.createArgs(v));
    trial.check(
      'a backup does not wait for a dead maintenance lease',
      created.code === 0 && created.durationMs < 30_000,
      `exit ${created.code} after ${Math.round(created.durationMs)} ms`,
    );
    if (created.code === 0) w.adopt(v, created, v.state);
    await w.restoreAll(trial);
    const oldest = v.backups[0] as Backup;
    const del = await w.run(trial, ['delete', oldest.url, '--json']);
    trial.check(
      'a delete does not wait for a dead maintenance lease',
      del.code === 0 && del.durationMs < 30_000,
      `exit ${del.code} after ${Math.round(del.durationMs)} ms`,
    );
    if (del.code === 0) w.forget(oldest);

    // The next maintenance waits the dead lease out, once.
    const again = await w.run(trial, args, { timeoutMs: DEFAULT_LEASE_TTL_MS + 90_000 });
    const waitedMs = performance.now() - killedAt;
    trial.measure('rerunMs', Math.round(again.durationMs));
    trial.measure('sinceKillMs', Math.round(waitedMs));
    trial.check(
      'the re-run maintenance succeeds',
      again.code === 0,
      `exit ${again.code} ${again.errorCode ?? ''} ${again.errorMessage ?? ''}`,
    );
    trial.check(
      'the re-run is never refused with CONVOY_STORE_LOCKED',
      again.errorCode !== 'CONVOY_STORE_LOCKED',
      again.errorMessage ?? '',
    );
    trial.check(
      'the re-run waits no longer than one lease expiry',
      again.durationMs <= DEFAULT_LEASE_TTL_MS + 15_000,
      `took ${Math.round(again.durationMs)} ms`,
    );
    trial.outcome(
      `re-run finished ${Math.round(again.durationMs / 1000)} s after it started (${Math.round(waitedMs / 1000)} s after the kill)`,
    );
    await w.verifyClean(trial);
    await w.reconcile(trial);
    await w.restoreAll(trial, w.backups());
    await w.run(trial, ['verify', store.url, '--json']);
  });
  await store.dispose().catch(() => undefined);
}

/** SIGKILL as soon as a maintenance lease is listed (polled every few ms); false if the run ended first. */
async function killWhenLeased(run: CliRun, store: StoreTarget): Promise<boolean> {
  while (!run.exited) {
    if ((await store.raw.list('locks/')).some((k) => k.startsWith('locks/maintenance-'))) return run.signal('SIGKILL');
    await sleep(2);
  }
  return false;
}
