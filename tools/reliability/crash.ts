// Campaign 1, crash trials: convoy-backup create (full and incremental), delete, maintenance
// (quick and --full --grace 0s) and restore are killed with SIGKILL at seeded points, one store
// (vfs or radosgw) living through all of them. After each kill: verify --read-data is clean, the
// store lists exactly the backups that completed, each of them restores bit-exact, and running
// the interrupted operation again succeeds — a maintenance within one lease expiry (no
// CONVOY_STORE_LOCKED).
import fs from 'node:fs/promises';
import path from 'node:path';
import { REGION, type ImageState } from './images.js';
import { Estimates, describePoint, killAtRequest, pickKillPoint, pickRequestPoint, signalAt } from './kill-point.js';
import type { HoldingProxy } from './s3-proxy.js';
import type { CliResult } from './convoy.js';
import type { Rng } from './prng.js';
import type { StoreKind, StoreTarget } from './stores.js';
import { Trial, runTrial } from './trial.js';
import { World, type Backup } from './world.js';
import { finalTrial, prepareDelete, prepareMaintenance, prepareRestore, targetHash, twoVolumes, type PreparedRun } from './world-steps.js';
import type { Size } from './config.js';

export const CRASH_OPS = ['create-full', 'create-incremental', 'delete', 'maintenance', 'maintenance-full', 'restore'] as const;
export type CrashOp = (typeof CRASH_OPS)[number];

export interface CrashPlanItem {
  n: number;
  op: CrashOp;
  rng: Rng;
}

/** What a crash campaign's store holds: image backups (the default), directory backups, or image backups in an encrypted store. */
export interface CrashMode {
  dirs?: boolean;
  /** The store is created with `init --encrypt`; CONVOY_PASSWORD is in every run's environment. */
  encrypted?: boolean;
}

/**
 * The campaign's trials: `trialsPerOp` (`dirTrialsPerOp` for directory volumes, `encryptedTrialsPerOp`
 * on an encrypted store) of each of `ops`, in a seeded order.
 */
export function planCrash(
  rng: Rng,
  size: Size,
  kind: StoreKind,
  only: readonly CrashOp[] = CRASH_OPS,
  mode: CrashMode = {},
): CrashPlanItem[] {
  const c = size.crash;
  const n = (mode.dirs === true ? c.dirTrialsPerOp : mode.encrypted === true ? c.encryptedTrialsPerOp : c.trialsPerOp)[kind];
  const ops = only.flatMap((op) => Array.from({ length: n }, () => op));
  return rng.shuffle(ops).map((op, n) => ({ n: n + 1, op, rng: rng.fork(`trial-${n + 1}`) }));
}

/** Which estimate a run feeds and a kill point reads. */
const estimateKey = (op: CrashOp): string => (op.startsWith('create') ? 'create' : op);

export class CrashCampaign {
  readonly world: World;
  readonly #size: Size;
  readonly #est = new Estimates();
  readonly #resultsFile: string;
  /** s3 only: kills at store-request boundaries go through it. */
  readonly #proxy: HoldingProxy | undefined;

  readonly #label: string;
  /** Directory volumes (directory backups) instead of image files. */
  readonly #dirs: boolean;
  readonly #encrypted: boolean;

  /** With `mode.encrypted`, `store.env` holds CONVOY_PASSWORD (the passphrase `init --encrypt` gets). */
  constructor(label: string, store: StoreTarget, dir: string, size: Size, resultsFile: string, proxy?: HoldingProxy, mode: CrashMode = {}) {
    this.#label = label;
    this.#dirs = mode.dirs === true;
    this.#encrypted = mode.encrypted === true;
    this.#size = size;
    this.#resultsFile = resultsFile;
    this.#proxy = proxy;
    this.world = new World({ store, dir, leaseTtlMs: size.leaseTtlMs, timeoutMs: size.timeoutMs, encrypted: this.#encrypted });
  }

  /**
   * Two volumes that share half their blocks, a few backups, and one uninterrupted run of each
   * operation (the first estimates); an encrypted store is created first (`init --encrypt`).
   */
  async setup(rng: Rng): Promise<void> {
    const w = this.world;
    if (this.#encrypted) {
      const r = await w.run(undefined, ['init', w.store.url, '--encrypt', '--json']);
      if (r.code !== 0 || (r.json as { encrypted?: unknown } | undefined)?.encrypted !== true)
        throw new Error(`set-up init --encrypt failed: ${r.errorCode ?? r.code} ${r.errorMessage ?? r.stderr.slice(-300)}`);
    }
    const [alpha, beta] = await twoVolumes(w, rng, {
      regions: this.#size.crash.regions[this.world.store.kind],
      dirs: this.#dirs ? this.#size.crash.dirs : undefined,
    });
    const measured = async (op: string, args: string[]): Promise<CliResult> => {
      const before = this.#proxy?.seen ?? 0;
      const r = await w.run(undefined, args, this.#viaProxy());
      if (r.code !== 0) throw new Error(`set-up ${op} failed: ${r.errorCode ?? r.code} ${r.errorMessage ?? r.stderr.slice(-300)}`);
      this.#est.add(op, r, this.#proxy === undefined ? undefined : this.#proxy.seen - before);
      return r;
    };
    for (const v of [alpha, beta]) w.adopt(v, await measured('create', w.createArgs(v)), v.state);
    await w.change(alpha, rng, 0.25);
    w.adopt(alpha, await measured('create', w.createArgs(alpha)), alpha.state);
    const target = path.join(w.dir, this.#dirs ? 'calibrate' : 'calibrate.img');
    await measured('restore', ['restore', (alpha.backups[0] as Backup).url, target, '--json']);
    await fs.rm(target, { recursive: true, force: true });
    await measured('maintenance', ['maintenance', w.store.url, '--json']);
    await measured('delete', ['delete', (alpha.backups[0] as Backup).url, '--json']);
    w.forget(alpha.backups[0] as Backup);
    await measured('maintenance-full', ['maintenance', w.store.url, '--full', '--grace', '0s', '--json']);
  }

  /** Options that send a run's store requests through the proxy (s3), so they can be counted and held. */
  #viaProxy(): { env?: Record<string, string> } {
    return this.#proxy === undefined ? {} : { env: { ...this.world.store.env, AWS_ENDPOINT_URL: this.#proxy.url } };
  }

  async trial(item: CrashPlanItem): Promise<void> {
    const op = this.#dirs ? `dir-${item.op}` : this.#encrypted ? `enc-${item.op}` : item.op;
    const trial = new Trial('crash', this.world.store.kind, op, `${this.#label} #${item.n} ${op}`, item.rng.seed);
    this.world.note = `trial #${item.n} (${item.op})`;
    await runTrial(trial, this.#resultsFile, (t) => this.#run(t, item.op, item.rng));
  }

  async #run(trial: Trial, op: CrashOp, rng: Rng): Promise<void> {
    const w = this.world;
    const prepared = await this.#prepare(trial, op, rng);
    const est = this.#est.of(estimateKey(op));
    const proxy = this.#proxy;
    const point =
      proxy !== undefined && est.requests !== undefined && rng.chance(0.5) ? pickRequestPoint(rng, est.requests) : pickKillPoint(rng, est);
    const viaProxy = this.#viaProxy();
    const before = proxy?.seen ?? 0;
    const run = w.start(prepared.args, viaProxy);
    const kill =
      point.anchor === 'store-request' && proxy !== undefined
        ? await killAtRequest(run, proxy, point, before)
        : await signalAt(run, point, 'SIGKILL');
    const result = trial.ran(await run.done);
    trial.fault(`kill -9 ${op} at ${describePoint(point)}${kill.request === undefined ? '' : `: ${kill.request}`}`);
    if (kill.killed) {
      trial.outcome(
        kill.progressLinesAtKill === 0
          ? 'killed before its first progress line'
          : `killed after ${kill.progressLinesAtKill} progress line(s)`,
      );
      trial.measure('killedAtMs', Math.round(kill.atMs ?? 0));
    } else {
      trial.outcome('completed before the kill');
      trial.check(
        'an uninterrupted run succeeds',
        result.code === 0,
        `exit ${result.code} ${result.errorCode ?? ''} ${result.errorMessage ?? result.stderr.slice(-300)}`,
      );
      this.#est.add(estimateKey(op), result, proxy === undefined ? undefined : proxy.seen - before);
    }
    if (point.anchor === 'store-request') trial.measure('killedAtRequest', point.request ?? 0);

    // The store as the kill left it.
    let killedRestoreDone = false;
    if (prepared.restoreTarget !== undefined) {
      const sha = await targetHash(w, prepared);
      const b = prepared.backup as Backup;
      killedRestoreDone = sha === b.state.sha256;
      trial.check(
        'a killed restore leaves the old target or the whole new one',
        sha === prepared.restoreTarget.oldSha || sha === b.state.sha256,
        `target sha256 ${sha.slice(0, 12)}…`,
      );
    }
    await w.verifyClean(trial);
    const completed = !kill.killed && result.code === 0;
    const { adopted, gone } = await w.reconcile(trial, {
      ...(op === 'delete' && prepared.backup !== undefined ? { mayBeGone: prepared.backup } : {}),
      ...(op.startsWith('create') && prepared.volume !== undefined
        ? { mayBeNew: { volume: prepared.volume, state: prepared.volume.state } }
        : {}),
    });
    if (completed && op.startsWith('create'))
      trial.check('a completed create is listed', adopted !== undefined, 'the create exited 0 but its backup is not listed');
    if (completed && op === 'delete')
      trial.check('a completed delete removed the backup', gone, 'the delete exited 0 but the backup is still listed');
    if (adopted !== undefined && kill.killed) trial.outcome(`${trial.record.outcome}; the backup had committed`);
    await w.restoreAll(trial);

    // Running it again finishes what the kill interrupted (through the proxy too: it counts requests).
    // A directory restore never writes over a tree: one the kill let finish is removed first, as a user would.
    if (this.#dirs && killedRestoreDone) await fs.rm(prepared.restoreTarget?.file ?? '', { recursive: true, force: true });
    const beforeAgain = proxy?.seen ?? 0;
    const again = await w.run(trial, prepared.args, viaProxy);
    trial.measure('rerunMs', Math.round(again.durationMs));
    trial.check(
      're-running the interrupted operation succeeds',
      again.code === 0,
      `exit ${again.code} ${again.errorCode ?? ''} ${again.errorMessage ?? again.stderr.slice(-300)}`,
    );
    trial.check(
      'the re-run is never refused with CONVOY_STORE_LOCKED',
      again.errorCode !== 'CONVOY_STORE_LOCKED',
      again.errorMessage ?? '',
    );
    const bound = this.#size.leaseTtlMs + 10_000 + 3 * this.#est.of(estimateKey(op)).durationMs;
    trial.check(
      'the re-run waits no longer than one lease expiry',
      again.durationMs <= bound,
      `took ${Math.round(again.durationMs)} ms (bound ${Math.round(bound)} ms: lease TTL ${this.#size.leaseTtlMs} ms + backoff + 3× the operation)`,
    );
    if (again.code !== 0) return;
    this.#est.add(estimateKey(op), again, proxy === undefined ? undefined : proxy.seen - beforeAgain);
    if (op.startsWith('create') && prepared.volume !== undefined) {
      await w.restoreExact(
        trial,
        w.adopt(prepared.volume, again, prepared.volume.state),
        path.join(w.dir, this.#dirs ? 'rerun' : 'rerun.img'),
      );
    } else if (op === 'delete' && prepared.backup !== undefined) {
      w.forget(prepared.backup);
      await w.reconcile(trial);
    } else if (prepared.restoreTarget !== undefined) {
      const b = prepared.backup as Backup;
      trial.check('the re-run restore is bit-exact', (await targetHash(w, prepared)) === b.state.sha256);
      const left = (await fs.readdir(w.dir)).filter((f) =>
        f.startsWith(`.${path.basename(prepared.restoreTarget?.file ?? '')}.convoy-restore-`),
      );
      trial.check("the re-run restore removed the killed one's temporary file", left.length === 0, `left: ${left.join(', ')}`);
    }
  }

  /** Brings the store to a state where `op` has something to do, and answers its arguments. */
  async #prepare(trial: Trial, op: CrashOp, rng: Rng): Promise<PreparedRun> {
    const w = this.world;
    const volumes = w.ofKind(this.#dirs);
    const cap = this.#size.crash.backupsPerVolume;
    if (op === 'create-full' || op === 'create-incremental') {
      const v = rng.pick(volumes);
      while (v.backups.length >= cap) await w.delete(trial, v.backups[0] as Backup);
      if (op === 'create-incremental' && v.backups.length === 0) await w.create(trial, v);
      const parent = v.backups.at(-1);
      await w.change(v, rng, this.#dirs ? rng.between(0.3, 0.9) : rng.between(0.2, 0.6)); // directories: sometimes most files, so parent packs get repacked
      let extra = ['--parent', 'none'];
      if (op === 'create-incremental') {
        extra = [];
        if (parent !== undefined && !this.#dirs && rng.chance(0.5)) {
          const file = path.join(w.dir, `${v.name}.changed.json`);
          await fs.writeFile(file, JSON.stringify(changedExtents(rng, parent.state, v.state)));
          extra = ['--parent', parent.id, '--changed', file];
        }
      }
      return { args: w.createArgs(v, extra), volume: v };
    }
    if (op === 'delete') {
      let v = volumes.find((x) => x.backups.length >= 2) ?? rng.pick(volumes);
      if (v.backups.length < 2) v = rng.pick(volumes);
      return prepareDelete(w, trial, rng, v);
    }
    if (op === 'maintenance' || op === 'maintenance-full') return prepareMaintenance(w, trial, rng, cap, op === 'maintenance-full');
    return prepareRestore(w, trial, rng, this.#dirs);
  }

  /** After every trial: two full maintenances, then everything verifies and restores. */
  async final(): Promise<void> {
    const w = this.world;
    await finalTrial(w, new Trial('crash', w.store.kind, 'final', `${this.#label}: the store after every trial`, 0), this.#resultsFile);
  }
}

/** A change list from `from` to `to`: one small extent inside each 2 MiB region whose content differs. */
export function changedExtents(rng: Rng, from: ImageState, to: ImageState): [number, number][] {
  const out: [number, number][] = [];
  to.blockIds.forEach((id, i) => {
    if (id === from.blockIds[i]) return;
    const length = Math.min(REGION, to.size - i * REGION);
    const at = rng.int(0, Math.max(0, length - 4096)) & ~511;
    out.push([i * REGION + at, Math.min(length - at, rng.int(1, 16) * 4096)]);
  });
  return out;
}
