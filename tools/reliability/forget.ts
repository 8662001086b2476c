// Killed forget: `convoy-backup forget STORE --keep-last K [--volume V]` is killed with SIGKILL at
// seeded points (kill-run.ts) on a vfs and a radosgw store. Its decision is known beforehand from
// `--dry-run` (checked against the model: the K newest of each volume). After the kill: verify
// --read-data is clean; the store lists every backup the policy keeps and every one forget was not
// asked to remove, a removed one is absent (its restore says CONVOY_BACKUP_NOT_FOUND), never half;
// every listed backup restores bit-exact; running forget again completes with the same kept set;
// and `maintenance --full` afterwards leaves verify clean.
import path from 'node:path';
import { Estimates } from './kill-point.js';
import { runKilled, runMeasured } from './kill-run.js';
import type { Rng } from './prng.js';
import type { HoldingProxy } from './s3-proxy.js';
import type { StoreKind, StoreTarget } from './stores.js';
import { Trial, runTrial } from './trial.js';
import { World, type Backup, type Volume } from './world.js';
import { finalTrial, twoVolumes } from './world-steps.js';
import type { Size } from './config.js';
import type { CliResult } from './convoy.js';

export interface ForgetPlanItem {
  n: number;
  rng: Rng;
}

export const planForget = (rng: Rng, size: Size, kind: StoreKind): ForgetPlanItem[] =>
  Array.from({ length: size.forget.trials[kind] }, (_, i) => ({ n: i + 1, rng: rng.fork(`trial-${i + 1}`) }));

interface Decision {
  volume: string;
  keep: string[];
  remove: string[];
}

/** The per-volume decisions of a `forget --json` result. */
function decisions(r: CliResult): Decision[] | undefined {
  const out = r.json as { volumes?: { volume: string; keep: { id: string }[]; remove: { id: string }[] }[] } | undefined;
  return out?.volumes?.map((v) => ({ volume: v.volume, keep: v.keep.map((k) => k.id).sort(), remove: v.remove.map((k) => k.id).sort() }));
}

const keptText = (ds: readonly Decision[]): string =>
  ds
    .map((d) => `${d.volume}: ${d.keep.join(',')}`)
    .sort()
    .join('; ');

export class ForgetCampaign {
  readonly world: World;
  readonly #label: string;
  readonly #resultsFile: string;
  readonly #proxy: HoldingProxy | undefined;
  readonly #size: Size;
  readonly #est = new Estimates();

  constructor(label: string, store: StoreTarget, dir: string, size: Size, resultsFile: string, proxy: HoldingProxy | undefined) {
    this.#label = label;
    this.#resultsFile = resultsFile;
    this.#proxy = proxy;
    this.#size = size;
    this.world = new World({ store, dir, leaseTtlMs: size.leaseTtlMs, timeoutMs: size.timeoutMs });
  }

  /** Two volumes; a few backups; one uninterrupted forget (the first estimate). */
  async setup(rng: Rng): Promise<void> {
    const w = this.world;
    const [alpha, beta] = await twoVolumes(w, rng, { regions: this.#size.forget.regions, dirs: undefined });
    await w.create(undefined, beta);
    for (let i = 0; i < 3; i++) {
      await w.change(alpha, rng, 0.5);
      await w.create(undefined, alpha);
    }
    const r = await runMeasured(w, ['forget', w.store.url, '--keep-last', '1', '--volume', 'alpha', '--json'], w.store.env, {
      est: this.#est,
      op: 'forget',
      proxy: this.#proxy,
    });
    if (r.code !== 0) throw new Error(`set-up forget failed: ${r.errorCode ?? r.code} ${r.errorMessage ?? r.stderr.slice(-300)}`);
    for (const d of decisions(r) ?? []) for (const id of d.remove) this.#drop(d.volume, id);
  }

  #drop(volume: string, id: string): void {
    const b = this.world.volume(volume).backups.find((x) => x.id === id);
    if (b !== undefined) this.world.forget(b);
  }

  async trial(item: ForgetPlanItem): Promise<void> {
    const trial = new Trial('forget', this.world.store.kind, 'forget', `${this.#label} #${item.n} forget`, item.rng.seed);
    this.world.note = `trial #${item.n} (forget)`;
    await runTrial(trial, this.#resultsFile, (t) => this.#run(t, item.rng));
  }

  async #run(trial: Trial, rng: Rng): Promise<void> {
    const w = this.world;
    // Backups to forget: K + 1 to K + 3 of each volume in scope, new ones made as needed.
    const keep = rng.int(1, 2);
    const all = [...w.volumes.values()];
    const scope: Volume[] = rng.chance(0.5) ? [rng.pick(all)] : all;
    for (const v of scope) {
      const want = keep + rng.int(1, 3);
      while (v.backups.length < want) {
        await w.change(v, rng, rng.between(0.2, 0.6));
        await w.create(trial, v);
      }
    }
    const args = [
      'forget',
      w.store.url,
      '--keep-last',
      String(keep),
      ...(scope.length === 1 ? ['--volume', scope[0]?.name ?? ''] : []),
      '--json',
    ];

    // What it will do (the dry run), against the model: the K newest of each volume in scope.
    const dry = await w.run(trial, [...args, '--dry-run']);
    const planned = decisions(dry) ?? [];
    const expected = scope
      .map((v) => ({
        volume: v.name,
        keep: v.backups
          .slice(-keep)
          .map((b) => b.id)
          .sort(),
      }))
      .filter((d) => d.keep.length > 0);
    trial.check(
      'forget --dry-run keeps the K newest backups of each volume',
      dry.code === 0 && keptText(planned) === keptText(expected.map((d) => ({ ...d, remove: [] }))),
      `exit ${dry.code} ${dry.errorCode ?? ''}; it keeps ${keptText(planned)}, the model ${keptText(expected.map((d) => ({ ...d, remove: [] })))}`,
    );
    const toRemove = new Set(planned.flatMap((d) => d.remove.map((id) => `${d.volume}/${id}`)));
    trial.measure('toRemove', toRemove.size);

    const killed = await runKilled(w, 'forget', args, w.store.env, { rng, est: this.#est, op: 'forget', proxy: this.#proxy });
    trial.ran(killed.result);
    trial.fault(killed.fault);
    if (killed.kill.killed) trial.measure('killedAtMs', Math.round(killed.kill.atMs ?? 0));
    if (killed.point.anchor === 'store-request') trial.measure('killedAtRequest', killed.point.request ?? 0);
    if (!killed.kill.killed)
      trial.check('an uninterrupted run succeeds', killed.result.code === 0, `exit ${killed.result.code} ${killed.result.errorCode ?? ''}`);

    // The store as the kill left it.
    await w.verifyClean(trial);
    const listed = await w.list(trial);
    if (listed === undefined) return;
    const seen = new Set(listed.map((e) => `${e.volume}/${e.id}`));
    const removed: Backup[] = [];
    for (const b of w.backups()) {
      const key = `${b.volume}/${b.id}`;
      if (seen.has(key)) continue;
      if (toRemove.has(key)) removed.push(b);
      else trial.fail(`forget never removes a backup it keeps or was not asked to remove: ${key} is gone`);
      w.forget(b);
    }
    const known = new Set([...w.backups(), ...removed].map((b) => `${b.volume}/${b.id}`));
    for (const e of listed) if (!known.has(`${e.volume}/${e.id}`)) trial.fail(`no phantom backup: the store lists ${e.volume}/${e.id}`);
    trial.check(
      'the store lists every backup forget did not remove',
      !trial.record.failures.some((f) => /^(forget never|no phantom)/.test(f)),
    );
    trial.outcome(
      `${killed.kill.killed ? 'killed' : 'completed before the kill'} after removing ${removed.length} of ${toRemove.size} backup(s)`,
    );
    trial.measure('removedBeforeKill', removed.length);
    await w.restoreAll(trial);
    for (const b of removed.slice(0, 2)) {
      const r = await w.run(trial, ['restore', b.url, path.join(w.dir, 'removed.img'), '--json']);
      trial.check(
        'a removed backup is absent, not half there (its restore: CONVOY_BACKUP_NOT_FOUND)',
        r.code !== 0 && r.errorCode === 'CONVOY_BACKUP_NOT_FOUND',
        `restoring ${b.volume}/${b.id}: exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? ''}`,
      );
    }

    // Running it again completes with the same kept set; maintenance afterwards leaves verify clean.
    const again = await runMeasured(w, args, w.store.env, { est: this.#est, op: 'forget', proxy: this.#proxy });
    trial.ran(again);
    trial.measure('rerunMs', Math.round(again.durationMs));
    trial.check(
      're-running the interrupted operation succeeds',
      again.code === 0,
      `exit ${again.code} ${again.errorCode ?? ''} ${again.errorMessage ?? ''}`,
    );
    const rerun = decisions(again) ?? [];
    trial.check(
      're-running forget keeps the same backups',
      again.code === 0 && keptText(rerun) === keptText(planned),
      `the re-run keeps ${keptText(rerun)}, the dry run planned ${keptText(planned)}`,
    );
    for (const d of rerun) for (const id of d.remove) this.#drop(d.volume, id);
    await w.reconcile(trial);
    const m = await w.fullMaintenance(trial);
    trial.check('full maintenance succeeds', m.code === 0, `exit ${m.code} ${m.errorCode ?? ''} ${m.errorMessage ?? ''}`);
    await w.verifyClean(trial);
  }

  /** After every trial: two full maintenances, everything verifies and restores, the store holds exactly the blocks it must. */
  async final(): Promise<void> {
    const w = this.world;
    await finalTrial(w, new Trial('forget', w.store.kind, 'final', `${this.#label}: the store after every trial`, 0), this.#resultsFile);
  }
}
