// The faulty-S3 campaign's plan: its operations, the trials in a seeded order, what each trial's
// proxy injects (faults at a rate, one lie, or one stall), and what a clear failure is.
import type { Size } from './config.js';
import type { CliResult } from './convoy.js';
import { HONEST_FAULTS, type FaultPlan, type S3Fault, type SeenRequest } from './faulty-s3-proxy.js';
import type { Rng } from './prng.js';

export const S3FAULT_OPS = [
  'create-full',
  'create-incremental',
  'restore',
  'delete',
  'maintenance',
  'maintenance-full',
  'verify',
  'create-lying',
  'maintenance-lying',
  'stalled',
] as const;
export type S3FaultOp = (typeof S3FAULT_OPS)[number];

/** The operations of the directory-volume file (`s3-faults-dirs.test.ts`): each on directory backups. */
export const S3FAULT_DIR_OPS: readonly S3FaultOp[] = [
  'create-full',
  'create-incremental',
  'create-lying',
  'restore',
  'delete',
  'maintenance-full',
];

/** The object of a create that a lying trial's PUT writes (the first PUT of that kind, or the k-th block). */
export const LIE_TARGETS: Record<string, RegExp> = {
  block: /^blocks\//,
  'add marker': /^refs\/pending\/.*\.add$/,
  'block map': /\.blocks$/,
  manifest: /^volumes\/[^/]+\/backups\/[^/]+\.json$/,
  'volume record': /^volumes\/[^/]+\/volume\.json$/,
  lease: /^locks\//,
};

/** How a run through the faults ended. The last two fail the trial. */
export type S3Outcome = 'succeeded-correct' | 'failed-clearly' | 'LOST' | 'failed-unclearly';

export interface S3FaultPlanItem {
  n: number;
  op: S3FaultOp;
  rng: Rng;
  /** create-lying: what the lie hits (a LIE_TARGETS name). */
  lie?: string;
}

/**
 * Trials of every operation of `ops` in a seeded order; lying trials go through LIE_TARGETS in
 * turn. `dirs`: the directory-volume file, with half as many trials of each operation.
 */
export function planS3Faults(rng: Rng, size: Size, ops: readonly S3FaultOp[] = S3FAULT_OPS, dirs = false): S3FaultPlanItem[] {
  const count = (op: S3FaultOp): number =>
    op === 'create-lying'
      ? Math.ceil(size.s3faults.lyingTrials / (dirs ? 2 : 1))
      : op === 'maintenance-lying'
        ? size.s3faults.lyingMaintenanceTrials
        : op === 'stalled'
          ? size.s3faults.stallTrials
          : Math.ceil(size.s3faults.trialsPerOp / (dirs ? 2 : 1));
  const all = ops.flatMap((op) => Array.from({ length: count(op) }, () => op));
  const targets = rng.shuffle(Object.keys(LIE_TARGETS));
  let lies = 0;
  return rng.shuffle(all).map((op, n) => ({
    n: n + 1,
    op,
    rng: rng.fork(`trial-${n + 1}`),
    ...(op === 'create-lying' ? { lie: targets[lies++ % targets.length] as string } : {}),
  }));
}

const CLEAR_CODE = /^CONVOY_[A-Z0-9_]+$/;

/** A failure a user can act on: nonzero exit (no signal, no hang) with a CONVOY_* code and a message. */
export const failedClearly = (r: CliResult): boolean =>
  r.code !== 0 && r.code !== null && !r.timedOut && CLEAR_CODE.test(r.errorCode ?? '') && (r.errorMessage ?? '').trim() !== '';

/** One fault of `kinds`, on the `nth` request that `matches`. */
function once(rng: Rng, kinds: readonly S3Fault[], nth: number, matches: (req: SeenRequest) => boolean): FaultPlan {
  let seen = 0;
  return { rng, rate: 1, kinds, max: 1, eligible: (req) => matches(req) && ++seen === nth };
}

/**
 * What the proxy does in a trial: faults at one of `rates`, one lie, or one stall. `key`: a
 * request path's key in the store. A directory backup's lied-to block is one of its first four
 * (chunks, packs, index segments), an image's one of its first two.
 */
export function faultPlan(
  item: S3FaultPlanItem,
  rng: Rng,
  rates: readonly number[],
  key: (path: string) => string,
  dirs = false,
): FaultPlan {
  if (item.op === 'create-lying') {
    const target = LIE_TARGETS[item.lie ?? 'block'] as RegExp;
    const nth = item.lie === 'block' ? rng.int(1, dirs ? 4 : 2) : 1;
    return once(rng, ['lie'], nth, (req) => req.method === 'PUT' && target.test(key(req.path)));
  }
  if (item.op === 'maintenance-lying') {
    // One of a full maintenance's writes (index runs, generation, sweep record, doomed list, …).
    const nth = rng.int(1, 10);
    return once(rng, ['lie'], nth, (req) => req.method === 'PUT' && !key(req.path).startsWith('locks/'));
  }
  if (item.op === 'stalled') return once(rng, ['stall', 'stall-body'], rng.int(1, 12), () => true);
  return { rng, rate: rng.pick(rates), kinds: HONEST_FAULTS };
}
