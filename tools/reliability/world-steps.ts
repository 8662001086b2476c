// Steps on a World shared by the store campaigns (crash, s3-faults, concurrency): getting the store
// ready for a delete, maintenance or restore under test, and the final trial after all the others.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DirShape } from './dir-volumes.js';
import { mutate, sha256File } from './images.js';
import type { Rng } from './prng.js';
import { runTrial, type Trial } from './trial.js';
import type { Backup, Volume, World } from './world.js';
import { checkNoPlaintext } from './crypto-checks.js';
import { checkNoLeak } from './world-gc.js';

/** A run under test: its arguments, and what it acts on (for the checks after it). */
export interface PreparedRun {
  args: string[];
  volume?: Volume;
  backup?: Backup;
  restoreTarget?: { file: string; oldSha: string };
}

/**
 * The store campaigns' two volumes, alpha and beta, that share about half their content (so
 * their backups share blocks): images of `regions` regions, or, with `dirs`, trees of that shape.
 */
export async function twoVolumes(w: World, rng: Rng, shape: { regions: number; dirs: DirShape | undefined }): Promise<[Volume, Volume]> {
  if (shape.dirs !== undefined) {
    const alpha = await w.addDirVolume('alpha', rng, shape.dirs);
    return [alpha, await w.addDirVolume('beta', rng, shape.dirs, alpha)];
  }
  const alpha = await w.addVolume('alpha', rng, shape.regions);
  const beta = await w.addVolume('beta', rng, shape.regions);
  await w.setState(beta, mutate(rng, alpha.state, 0.5).state);
  w.remember(alpha.state);
  return [alpha, beta];
}

/** A delete of one of `v`'s backups, after giving `v` a second backup if it has fewer than two. */
export async function prepareDelete(w: World, trial: Trial, rng: Rng, v: Volume): Promise<PreparedRun> {
  while (v.backups.length < 2) {
    await w.change(v, rng, 0.3);
    await w.create(trial, v);
  }
  const b = rng.pick(v.backups);
  return { args: ['delete', b.url, '--json'], backup: b };
}

/** A maintenance (`--full --grace 0s` when `full`) with work to do: a new backup (an add marker) and a deleted one (a tombstone, garbage). */
export async function prepareMaintenance(w: World, trial: Trial, rng: Rng, cap: number, full: boolean): Promise<PreparedRun> {
  const volumes = [...w.volumes.values()];
  const v = rng.pick(volumes);
  while (v.backups.length >= cap) await w.delete(trial, v.backups[0] as Backup);
  await w.change(v, rng, 0.3);
  await w.create(trial, v);
  const old = volumes.find((x) => x.backups.length >= 2);
  if (old !== undefined) await w.delete(trial, old.backups[0] as Backup);
  return { args: ['maintenance', w.store.url, '--json', ...(full ? ['--full', '--grace', '0s'] : [])] };
}

/**
 * A restore of a backup (one is made if there is none) over a target file of seeded size and
 * content; with `dir`, of a directory backup into a new directory (a directory restore never
 * writes over anything), so its old state is "absent".
 */
export async function prepareRestore(w: World, trial: Trial, rng: Rng, dir = false): Promise<PreparedRun> {
  const all = w.backups().filter((b) => w.isDir(b) === dir);
  const b = all.length > 0 ? rng.pick(all) : await w.create(trial, rng.pick(w.ofKind(dir)));
  if (dir) {
    const target = path.join(w.dir, 'restore-target');
    await fs.rm(target, { recursive: true, force: true });
    return { args: ['restore', b.url, target, '--json'], backup: b, restoreTarget: { file: target, oldSha: 'absent' } };
  }
  const file = path.join(w.dir, 'restore-target.img');
  await fs.writeFile(file, Buffer.alloc(rng.int(1, 64) * 4096, rng.int(1, 255)));
  return { args: ['restore', b.url, file, '--json'], backup: b, restoreTarget: { file, oldSha: await sha256File(file) } };
}

/** What a prepared restore's target holds now (World.targetHash of its backup). */
export function targetHash(w: World, prepared: PreparedRun): Promise<string> {
  return w.targetHash(prepared.backup as Backup, prepared.restoreTarget?.file ?? '');
}

/** The final trial: two full maintenances, then everything verifies and restores, nothing leaked, and (encrypted) no plaintext is stored. */
export async function finalTrial(w: World, trial: Trial, resultsFile: string): Promise<void> {
  w.asideByCli = true; // the last word is the bin's, as operators run it
  await runTrial(trial, resultsFile, async () => {
    for (let i = 0; i < 2; i++) {
      const r = await w.fullMaintenance(trial);
      trial.check('full maintenance succeeds', r.code === 0, `exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? ''}`);
    }
    await w.verifyClean(trial);
    await w.reconcile(trial);
    await w.restoreAll(trial);
    const checked = w.backups().length; // before checkNoLeak, which deletes them all in a store with directory backups
    if (w.options.encrypted === true) await checkNoPlaintext(w, trial);
    await checkNoLeak(w, trial);
    trial.outcome(`${checked} backups verified and restored`);
  });
}
