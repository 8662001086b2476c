// Campaign 4, concurrency: operations that overlap for real, started at seeded offsets, on one
// store per kind that lives through every round. Scenarios: two backups of the same volume at
// once; a backup while an older backup of its volume is deleted; a backup that deduplicates
// against a deleted backup's blocks while two `maintenance --full --grace 0s` mark and sweep
// them; two "hosts" (two processes) backing up volumes that share blocks into one store while a
// maintenance runs. Every process must finish within its deadline (nothing deadlocks) and exit 0;
// then verify --read-data is clean and every backup restores bit-exact.
import { blend, mutate, type ImageState } from './images.js';
import { Estimates } from './kill-point.js';
import type { Rng } from './prng.js';
import type { StoreTarget } from './stores.js';
import { Trial, runTrial } from './trial.js';
import { World, type Backup, type Volume } from './world.js';
import { finalTrial } from './world-steps.js';
import type { CliResult } from './convoy.js';
import type { Size } from './config.js';
import { sleep } from './pause.js';
import fs from 'node:fs/promises';
import path from 'node:path';

export const SCENARIOS = ['same-volume', 'backup+delete', 'backup+maintenance', 'two-hosts'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface ConcurrencySpec {
  n: number;
  scenario: Scenario;
  rng: Rng;
}

export function planConcurrency(rng: Rng, size: Size): ConcurrencySpec[] {
  const list = SCENARIOS.flatMap((s) => Array.from({ length: size.concurrency.roundsPerScenario }, () => s));
  return rng.shuffle(list).map((scenario, i) => ({ n: i + 1, scenario, rng: rng.fork(`round-${i + 1}`) }));
}

interface Job {
  what: string;
  args: string[];
  /** ms after the round starts. */
  offsetMs: number;
  /** For a create: the volume and state it backs up. */
  backs?: { volume: Volume; state: ImageState };
}

export class ConcurrencyCampaign {
  readonly world: World;
  readonly #size: Size;
  readonly #resultsFile: string;
  readonly #est = new Estimates();

  constructor(store: StoreTarget, dir: string, size: Size, resultsFile: string) {
    this.#size = size;
    this.#resultsFile = resultsFile;
    // The CLI's own leases: nothing is killed here, so no dead lease is ever waited out.
    this.world = new World({ store, dir, leaseTtlMs: undefined, timeoutMs: size.timeoutMs });
  }

  async setup(rng: Rng): Promise<void> {
    const w = this.world;
    const a = await w.addVolume('shared', rng, this.#size.concurrency.regions);
    const b = await w.addVolume('host-b', rng, this.#size.concurrency.regions);
    await w.setState(b, blend(rng, b.state, [a.state, b.state], 0));
    for (const v of [a, b]) {
      const r = await w.run(undefined, w.createArgs(v));
      if (r.code !== 0) throw new Error(`set-up backup failed: ${r.errorCode ?? r.code} ${r.errorMessage ?? ''}`);
      this.#est.add('create', r);
      w.adopt(v, r, v.state);
    }
  }

  async round(spec: ConcurrencySpec): Promise<void> {
    const trial = new Trial(
      'concurrency',
      this.world.store.kind,
      spec.scenario,
      `concurrency ${this.world.store.kind} #${spec.n} ${spec.scenario}`,
      spec.rng.seed,
    );
    await runTrial(trial, this.#resultsFile, (t) => this.#round(t, spec));
  }

  async #round(trial: Trial, spec: ConcurrencySpec): Promise<void> {
    const w = this.world;
    const rng = spec.rng;
    const jobs = await this.#prepare(trial, spec.scenario, rng);
    const began = performance.now();
    const results = await Promise.all(
      jobs.map(async (job) => {
        await sleep(job.offsetMs);
        trial.fault(`${job.what} at +${job.offsetMs} ms`);
        return job.what.startsWith('then ') ? undefined : w.run(trial, job.args);
      }),
    );
    // Jobs named "then …" run after the job before them, in the same lane.
    for (let i = 0; i < jobs.length; i++) {
      if (results[i] === undefined) results[i] = await w.run(trial, (jobs[i] as Job).args);
    }
    trial.measure('roundMs', Math.round(performance.now() - began));
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i] as Job;
      const r = results[i] as CliResult;
      trial.check(
        'every overlapping operation finishes within its deadline (no deadlock)',
        !r.timedOut,
        `${job.what} ran past ${this.#size.timeoutMs} ms`,
      );
      trial.check(
        'every overlapping operation succeeds',
        r.code === 0,
        `${job.what}: exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? r.stderr.slice(-300)}`,
      );
      if (r.code === 0 && job.backs !== undefined) {
        this.#est.add('create', r);
        w.adopt(job.backs.volume, r, job.backs.state);
      }
      if (r.code === 0 && job.args[0] === 'delete') {
        const gone = w.backups().find((b) => b.url === job.args[1]);
        if (gone !== undefined) w.forget(gone);
      }
    }
    trial.outcome(`${jobs.length} overlapping operations in ${Math.round(performance.now() - began)} ms`);
    await w.verifyClean(trial);
    await w.reconcile(trial);
    await w.restoreAll(trial);
  }

  /** After every round: two full maintenances, then everything verifies and restores, and nothing leaked. */
  async final(): Promise<void> {
    const w = this.world;
    const trial = new Trial('concurrency', w.store.kind, 'final', `concurrency ${w.store.kind}: the store after every round`, 0);
    await finalTrial(w, trial, this.#resultsFile);
  }

  /** The round's jobs; the source files they read are written first (a snapshot never changes under a backup). */
  async #prepare(trial: Trial, scenario: Scenario, rng: Rng): Promise<Job[]> {
    const w = this.world;
    const shared = w.volume('shared');
    const hostB = w.volume('host-b');
    const span = Math.round(this.#est.of('create').durationMs);
    const offset = (): number => rng.int(0, span);
    for (const v of [shared, hostB]) while (v.backups.length > 3) await w.delete(trial, v.backups[0] as Backup);
    const snapshot = async (v: Volume, state: ImageState, name: string): Promise<Job> => {
      const file = path.join(w.dir, `${v.name}-${name}.img`);
      await fs.mkdir(w.dir, { recursive: true });
      const { writeImage } = await import('./images.js');
      await writeImage(file, state);
      return { what: `create ${v.name} (${name})`, args: w.createArgs(v, [], file), offsetMs: 0, backs: { volume: v, state } };
    };
    const maintenanceFull = ['maintenance', w.store.url, '--full', '--grace', '0s', '--json'];
    switch (scenario) {
      case 'same-volume': {
        const a = await snapshot(shared, mutate(rng, shared.state, 0.4).state, 'a');
        const b = await snapshot(shared, mutate(rng, shared.state, 0.4).state, 'b');
        return [a, { ...b, offsetMs: offset() }];
      }
      case 'backup+delete': {
        while (shared.backups.length < 2) await w.create(trial, shared);
        const older = rng.pick(shared.backups.slice(0, -1));
        const job = await snapshot(
          shared,
          blend(
            rng,
            shared.state,
            shared.backups.map((b) => b.state),
            0.3,
          ),
          'new',
        );
        return [job, { what: `delete ${older.id}`, args: ['delete', older.url, '--json'], offsetMs: offset() }];
      }
      case 'backup+maintenance': {
        // The new backup reuses blocks only a deleted backup held: the sweeps mark and delete
        // them while the backup finds them present and references them.
        while (shared.backups.length < 2) {
          await w.setState(shared, mutate(rng, shared.state, 0.5).state);
          await w.create(trial, shared);
        }
        const doomed = shared.backups[0] as Backup;
        await w.delete(trial, doomed);
        trial.fault(`deleted ${doomed.id} before the round (its blocks become garbage)`);
        const job = await snapshot(shared, blend(rng, shared.state, [doomed.state, shared.state], 0.2), 'new');
        const m = offset();
        return [
          job,
          { what: 'maintenance --full --grace 0s', args: maintenanceFull, offsetMs: m },
          { what: 'then maintenance --full --grace 0s', args: maintenanceFull, offsetMs: m },
        ];
      }
      case 'two-hosts': {
        const base = blend(rng, shared.state, [shared.state, hostB.state], 0.3);
        const a = await snapshot(shared, base, 'host-a');
        const b = await snapshot(hostB, blend(rng, hostB.state, [base, hostB.state], 0.2), 'host-b');
        return [
          a,
          { ...b, offsetMs: rng.int(0, Math.round(span / 4)) },
          { what: 'maintenance (quick)', args: ['maintenance', w.store.url, '--json'], offsetMs: offset() },
        ];
      }
    }
  }
}
