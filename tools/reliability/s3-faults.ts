// Campaign 2, faulty S3: convoy-backup create (full, incremental), restore, delete, maintenance
// (quick and --full --grace 0s) and verify run against radosgw through FaultyS3Proxy, which
// answers 503 and 500, cuts connections before and after request and response bodies, holds
// answers back, truncates bodies, and loses the answer of writes that happened — on a seeded
// schedule. Each run must succeed with correct data, or fail with a clear error (a CONVOY_* code
// and a message, exit code nonzero); success with data missing is LOST (Rancher Convoy's S3
// "errors yet success" bug). The lying variants answer one PUT of a create (or of a full
// maintenance) with 200 and never store it; the stalled one (--full) leaves one request
// unanswered. After every trial, through a clean connection: verify --read-data is clean, the
// store lists exactly the backups that completed, each restores bit-exact, and the operation run
// again without faults succeeds. The plan and the faults of each trial: s3-faults-plan.ts.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Size } from './config.js';
import type { CliResult } from './convoy.js';
import type { FaultyS3Proxy } from './faulty-s3-proxy.js';
import { DEFAULT_LEASE_TTL_MS } from './lease-expiry.js';
import type { Rng } from './prng.js';
import { failedClearly, faultPlan, type S3FaultOp, type S3FaultPlanItem, type S3Outcome } from './s3-faults-plan.js';
import type { StoreTarget } from './stores.js';
import { Trial, runTrial } from './trial.js';
import { World, type Backup } from './world.js';
import { finalTrial, prepareDelete, prepareMaintenance, prepareRestore, targetHash, twoVolumes, type PreparedRun } from './world-steps.js';

interface Prepared extends PreparedRun {
  /** Which uninterrupted runs tell how long this one takes. */
  estimate: string;
}

export class S3FaultCampaign {
  readonly world: World;
  readonly #size: Size;
  readonly #proxy: FaultyS3Proxy;
  readonly #resultsFile: string;
  readonly #prefix: string;
  /** Duration of uninterrupted runs, per op (for the "no longer than one lease expiry" bound). */
  readonly #typicalMs = new Map<string, number>();

  /** Directory volumes (directory backups) instead of image files. */
  readonly #dirs: boolean;
  readonly #label: string;

  constructor(label: string, store: StoreTarget, dir: string, size: Size, resultsFile: string, proxy: FaultyS3Proxy, dirs = false) {
    this.#label = label;
    this.#dirs = dirs;
    this.#size = size;
    this.#proxy = proxy;
    this.#resultsFile = resultsFile;
    const url = new URL(store.url);
    this.#prefix = `/${url.hostname}${url.pathname}/`;
    this.world = new World({ store, dir, leaseTtlMs: size.s3faults.leaseTtlMs, timeoutMs: size.timeoutMs });
  }

  /** Two volumes sharing half their content and a backup of each (through a clean connection). */
  async setup(rng: Rng): Promise<void> {
    const w = this.world;
    const [alpha, beta] = await twoVolumes(w, rng, {
      regions: this.#size.s3faults.regions,
      dirs: this.#dirs ? this.#size.s3faults.dirs : undefined,
    });
    for (const v of [alpha, beta]) {
      const r = await w.run(undefined, w.createArgs(v));
      if (r.code !== 0) throw new Error(`set-up backup failed: ${r.errorCode ?? r.code} ${r.errorMessage ?? r.stderr.slice(-300)}`);
      this.#typical('create', r);
      w.adopt(v, r, v.state);
    }
  }

  #viaProxy(): { env: Record<string, string> } {
    return { env: { ...this.world.store.env, AWS_ENDPOINT_URL: this.#proxy.url } };
  }

  #typical(op: string, r: CliResult): void {
    if (r.code === 0 && !this.#typicalMs.has(op)) this.#typicalMs.set(op, r.durationMs);
  }

  /** The key of a request path inside this store (or the path, for bucket-level requests). */
  #key = (p: string): string => (p.startsWith(this.#prefix) ? p.slice(this.#prefix.length) : p);

  async trial(item: S3FaultPlanItem): Promise<void> {
    const op = this.#dirs ? `dir-${item.op}` : item.op;
    const trial = new Trial('s3-faults', 's3', op, `${this.#label} #${item.n} ${op}`, item.rng.seed);
    this.world.note = `trial #${item.n} (${item.op})`;
    await runTrial(trial, this.#resultsFile, (t) => this.#run(t, item));
  }

  async #run(trial: Trial, item: S3FaultPlanItem): Promise<void> {
    const w = this.world;
    const rng = item.rng;
    const op = item.op;
    const prepared = await this.#prepare(trial, op, rng);
    const lying = op === 'create-lying' || op === 'maintenance-lying';
    const plan = faultPlan(item, rng.fork('faults'), this.#size.s3faults.rates, this.#key, this.#dirs);
    const rate = plan.rate;
    if (op === 'create-lying') trial.measure(`lieAt:${item.lie ?? ''}`, 1);
    this.#proxy.arm(plan, this.#key);
    let result: CliResult;
    try {
      result = trial.ran(await w.run(undefined, prepared.args, this.#viaProxy()));
    } finally {
      this.#proxy.disarm();
    }
    const injected = [...this.#proxy.injected];
    trial.measure('requests', this.#proxy.requests);
    trial.measure('faultRatePercent', Math.round(rate * 100));
    for (const f of injected) {
      trial.fault(`${f.kind}${f.slowMs === undefined ? '' : ` ${f.slowMs} ms`}: ${f.method} ${f.key}`);
      trial.measure(`fault:${f.kind}`, (trial.record.measures[`fault:${f.kind}`] ?? 0) + 1);
    }
    if (lying && injected.length === 0) trial.measure('lieMissed', 1); // the create made fewer PUTs than drawn

    // How it ended, judged through a clean connection.
    const ok = result.code === 0 && !result.timedOut;
    const clear = failedClearly(result);
    trial.check(
      'it either succeeds or fails with a clear error (CONVOY_* code, message, nonzero exit)',
      ok || clear,
      `exit ${result.code}${result.timedOut ? ' (timed out)' : ''} ${result.errorCode ?? '(no error code)'} ${result.errorMessage ?? result.stderr.slice(-300)}`,
    );
    const typical = this.#typicalMs.get(prepared.estimate) ?? 0;
    const slowMs = injected.reduce((n, f) => n + (f.slowMs ?? 0), 0);
    // A stall is waited out by the S3 driver's inactivity timeout (60 s): the bound is then the CLI's own lease expiry.
    const bound = (op === 'stalled' ? DEFAULT_LEASE_TTL_MS : this.#size.s3faults.leaseTtlMs + 10_000) + 3 * typical + slowMs;
    trial.measure('runMs', Math.round(result.durationMs));
    trial.check(
      'no run waits longer than one lease expiry',
      result.durationMs <= bound,
      `took ${Math.round(result.durationMs)} ms (bound ${Math.round(bound)} ms: lease TTL + backoff + 3× the operation + ${slowMs} ms of injected slowness)`,
    );
    const failuresBefore = trial.record.failures.length;

    if (prepared.restoreTarget !== undefined) {
      const sha = await targetHash(w, prepared);
      const b = prepared.backup as Backup;
      if (ok)
        trial.check(
          'a restore that succeeded wrote the backup bit-exact',
          sha === b.state.sha256,
          `target sha256 ${sha.slice(0, 12)}…, backup ${b.state.sha256.slice(0, 12)}…`,
        );
      else
        trial.check(
          'a failed restore leaves the old target or the whole new one',
          sha === prepared.restoreTarget.oldSha || sha === b.state.sha256,
          `target sha256 ${sha.slice(0, 12)}…`,
        );
    }
    const verifying = prepared.args[0] === 'verify';
    if (verifying && ok) {
      const out = result.json as { ok?: boolean; problems?: unknown[] } | undefined;
      trial.check(
        'a verify that succeeded says the store is whole',
        out?.ok === true && (out.problems ?? []).length === 0,
        () => `ok ${String(out?.ok)}, problems ${JSON.stringify(out?.problems ?? []).slice(0, 300)}`,
      );
    }
    if (verifying && result.code === 3) {
      // Exit 3 is "problems found": through faults on a whole store, that is a false alarm.
      trial.check(
        'verify through faults never reports damage that is not there',
        false,
        `exit 3: ${JSON.stringify((result.json as { problems?: unknown[] } | undefined)?.problems ?? []).slice(0, 400)}`,
      );
    }
    const problems = await w.verifyClean(trial);
    if (lying && problems.length > 0) {
      // The lie got through: verify must name the missing object, and a restore must fail loudly.
      const missing = injected.map((f) => f.key).filter((k) => problems.includes(k));
      trial.check(
        'verify names the object the server lied about',
        missing.length > 0,
        `verify named ${problems.join(', ')}; the lie was ${injected.map((f) => f.key).join(', ')}`,
      );
    }
    const created = prepared.volume !== undefined;
    const { adopted, gone } = await w.reconcile(trial, {
      ...(op === 'delete' && prepared.backup !== undefined ? { mayBeGone: prepared.backup } : {}),
      ...(created && prepared.volume !== undefined ? { mayBeNew: { volume: prepared.volume, state: prepared.volume.state } } : {}),
    });
    if (ok && created)
      trial.check('a create that succeeded is listed', adopted !== undefined, 'the create exited 0 but its backup is not listed');
    if (ok && op === 'delete')
      trial.check('a delete that succeeded removed the backup', gone, 'the delete exited 0 but the backup is still listed');
    if (adopted !== undefined && !ok) trial.measure('failedCreateHadCommitted', 1);
    await w.restoreAll(trial);
    const dataChecksFailed = trial.record.failures.length > failuresBefore;
    const outcome: S3Outcome = ok ? (dataChecksFailed ? 'LOST' : 'succeeded-correct') : clear ? 'failed-clearly' : 'failed-unclearly';
    trial.outcome(`${outcome}${ok || result.errorCode === undefined ? '' : ` (${result.errorCode})`}`);
    if (!ok && dataChecksFailed) trial.fail('nothing lost after a failed run: the store was damaged by a run that failed');

    // The same operation without faults succeeds (a directory restore needs its target absent again).
    if (this.#dirs && prepared.restoreTarget !== undefined) await fs.rm(prepared.restoreTarget.file, { recursive: true, force: true });
    const again = await w.run(trial, prepared.args);
    trial.check(
      'running it again without faults succeeds',
      again.code === 0,
      `exit ${again.code} ${again.errorCode ?? ''} ${again.errorMessage ?? again.stderr.slice(-300)}`,
    );
    this.#typical(prepared.estimate, again);
    if (again.code !== 0) return;
    if (created && prepared.volume !== undefined) {
      const rerun = path.join(w.dir, this.#dirs ? 'rerun' : 'rerun.img');
      await w.restoreExact(trial, w.adopt(prepared.volume, again, prepared.volume.state), rerun);
    } else if (op === 'delete' && prepared.backup !== undefined) {
      w.forget(prepared.backup);
      await w.reconcile(trial);
    } else if (prepared.restoreTarget !== undefined) {
      trial.check('the re-run restore is bit-exact', (await targetHash(w, prepared)) === (prepared.backup as Backup).state.sha256);
    } else if (op === 'maintenance-lying') {
      // The re-run swept what the lied-to run marked: still nothing lost.
      await w.verifyClean(trial);
      await w.restoreAll(trial);
    }
  }

  /** Brings the store to a state where `op` has something to do (through a clean connection), and answers its arguments. */
  async #prepare(trial: Trial, op: S3FaultOp, rng: Rng): Promise<Prepared> {
    const base: S3FaultOp =
      op === 'stalled'
        ? rng.pick(['create-incremental', 'restore', 'verify'] as const)
        : op === 'maintenance-lying'
          ? 'maintenance-full'
          : op;
    const p = await this.#prepareOp(trial, base, rng);
    return { ...p, estimate: base.startsWith('create') ? 'create' : base };
  }

  async #prepareOp(trial: Trial, op: S3FaultOp, rng: Rng): Promise<PreparedRun> {
    const w = this.world;
    const volumes = [...w.volumes.values()];
    const cap = this.#size.s3faults.backupsPerVolume;
    if (op.startsWith('create')) {
      const v = rng.pick(volumes);
      while (v.backups.length >= cap) await w.delete(trial, v.backups[0] as Backup);
      if (v.backups.length === 0 && op !== 'create-full') await w.create(trial, v);
      await w.change(v, rng, this.#dirs ? rng.between(0.3, 0.9) : rng.between(0.3, 0.7)); // directories: sometimes most files, so parent packs get repacked
      const full = op === 'create-full' || (op === 'create-lying' && rng.chance(0.5));
      return { args: w.createArgs(v, full ? ['--parent', 'none'] : []), volume: v };
    }
    if (op === 'delete') return prepareDelete(w, trial, rng, rng.pick(volumes));
    if (op === 'maintenance' || op === 'maintenance-full') return prepareMaintenance(w, trial, rng, cap, op === 'maintenance-full');
    if (op === 'verify') return { args: ['verify', w.store.url, '--read-data', '--json'] };
    return prepareRestore(w, trial, rng, this.#dirs);
  }

  /** After every trial: two full maintenances (clean connection), then everything verifies and restores, and nothing leaked. */
  async final(): Promise<void> {
    const w = this.world;
    await finalTrial(w, new Trial('s3-faults', 's3', 'final', `${this.#label}: the store after every trial`, 0), this.#resultsFile);
  }
}
