// The garbage checks of a World after its campaign: after `maintenance --full --grace 0s` the
// store holds exactly the blocks the completed backups reference, none lost and none leaked.
import { blockKey } from './images.js';
import type { Trial } from './trial.js';
import type { World } from './world.js';

const blockKeys = async (w: World): Promise<string[]> => (await w.store.raw.list('blocks/')).filter((k) => k.endsWith('.blk'));

/**
 * Two full maintenances (already run: `runsDone`) collect garbage in the common case (the first
 * marks, the second deletes); a block written again after it was marked is spared and marked
 * anew, so up to `extraRuns` more are given before what is left counts as leaked. A store with
 * directory backups, or an encrypted one (block ids are keyed hashes), is emptied instead
 * (checkEmptiesOut): their block keys are not in the model.
 */
export async function checkNoLeak(w: World, trial: Trial, runsDone = 2, extraRuns = 3): Promise<void> {
  if (w.ofKind(true).length > 0 || w.options.encrypted === true) return checkEmptiesOut(w, trial, extraRuns);
  const want = new Set(
    w
      .backups()
      .flatMap((b) => b.state.blockIds.filter((id): id is string => id !== null))
      .map(blockKey),
  );
  const unwanted = async (): Promise<{ leaked: string[]; missing: string[] }> => {
    const have = new Set(await blockKeys(w));
    return { leaked: [...have].filter((k) => !want.has(k)), missing: [...want].filter((k) => !have.has(k)) };
  };
  let runs = runsDone;
  let left = await unwanted();
  for (let i = 0; i < extraRuns && left.leaked.length > 0; i++) {
    await w.fullMaintenance(trial);
    runs++;
    left = await unwanted();
  }
  trial.measure('fullMaintenancesToCollectGarbage', runs);
  const origin = (k: string): string => `${k.slice(-16)} (first in a source at ${w.origin(k.slice(-68, -4))})`;
  trial.check(
    'no leaked blocks (all garbage collected within 5 full maintenances, --grace 0s)',
    left.leaked.length === 0,
    `${left.leaked.length} block(s) no completed backup references are still in the store after ${runs} full maintenances: ${left.leaked.slice(0, 5).map(origin).join('; ')}`,
  );
  trial.check(
    'no referenced block missing',
    left.missing.length === 0,
    `${left.missing.length} referenced block(s) missing, e.g. ${left.missing[0] ?? ''}`,
  );
}

/**
 * A store with directory backups or an encrypted one, whose blocks the model cannot predict
 * (content-defined chunks, packs; keyed block ids): every backup is deleted, then full maintenances (at least 2, up to 2 + `extraRuns`)
 * must leave no block at all; any left is a leak. It ends the world, so it runs last.
 */
async function checkEmptiesOut(w: World, trial: Trial, extraRuns: number): Promise<void> {
  for (const b of w.backups()) await w.delete(trial, b);
  let runs = 0;
  let left = await blockKeys(w);
  for (; runs < 2 + extraRuns && (runs < 2 || left.length > 0); runs++) {
    const r = await w.fullMaintenance(trial);
    trial.check('full maintenance succeeds', r.code === 0, `exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? ''}`);
    left = await blockKeys(w);
  }
  trial.measure('fullMaintenancesToCollectGarbage', runs);
  trial.check(
    'no leaked blocks (every backup deleted: all blocks collected within 5 full maintenances, --grace 0s)',
    left.length === 0,
    `${left.length} block(s) are still in the store after every backup was deleted and ${runs} full maintenances ran: ${left.slice(0, 5).join(', ')}`,
  );
}
