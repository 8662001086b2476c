// One run under test killed with SIGKILL at a seeded point, for the campaigns that kill a single
// convoy-backup command (keys.ts, forget.ts). Three quarters of the kills land on a boundary of the
// run's store work: on radosgw its n-th store request, held by the proxy (s3-proxy.ts) and then
// sent on or dropped; on vfs its n-th filesystem change in the store, by daemon-kill-hook.ts
// preloaded into the CLI (armed from its start; the CLI is no group leader, so the hook kills it
// alone), sometimes a few ms later so it lands inside the call. The rest are a delay within the
// measured length of an uninterrupted run. Uninterrupted runs (set-up, re-runs) count the requests
// or steps a run takes.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { CliResult } from './convoy.js';
import {
  describePoint,
  killAtRequest,
  pickRequestPoint,
  signalAt,
  type Estimates,
  type KillOutcome,
  type KillPoint,
} from './kill-point.js';
import type { Rng } from './prng.js';
import type { HoldingProxy } from './s3-proxy.js';
import type { World } from './world.js';

const STEP_HOOK = fileURLToPath(new URL('./daemon-kill-hook.ts', import.meta.url));

export interface KilledRun {
  point: KillPoint;
  kill: KillOutcome;
  result: CliResult;
  /** What the fault was, for the trial record and the report. */
  fault: string;
}

/** A store's environment with its requests sent through `proxy` (when there is one). */
export const viaProxy = (env: Record<string, string>, proxy: HoldingProxy | undefined): Record<string, string> =>
  proxy === undefined ? env : { ...env, AWS_ENDPOINT_URL: proxy.url };

/** The step hook's settings for a run in the vfs store of `w`, counting (plan null) or killing at a step. */
function stepHook(w: World, plan: { step: number | null; delayMs?: number }): { imports: string[]; env: Record<string, string> } {
  return {
    imports: [STEP_HOOK],
    env: {
      CONVOY_RELIABILITY_STEP_ROOT: w.store.url.replace(/^vfs:\/\//, ''),
      CONVOY_RELIABILITY_KILL_PLAN: path.join(w.dir, 'unused-kill-plan.json'),
      CONVOY_RELIABILITY_KILL_AT_START: JSON.stringify(plan),
    },
  };
}

/** The steps a run told (daemon-kill-hook.ts lines on its stderr). */
const steps = (r: CliResult): string[] => r.stderr.split('\n').flatMap((l) => /^reliability-hook: step \d+ (.*)$/.exec(l)?.[1] ?? []);

function pickPoint(rng: Rng, est: ReturnType<Estimates['of']>, vfs: boolean): KillPoint {
  if (est.requests !== undefined && rng.chance(0.75)) {
    if (!vfs) return pickRequestPoint(rng, est.requests);
    return { anchor: 'store-step', delayMs: rng.chance(0.25) ? rng.int(1, 20) : 0, request: rng.int(1, Math.max(1, est.requests)) };
  }
  return { anchor: 'spawn', delayMs: Math.round(rng.between(0.25, 1.02) * est.durationMs) };
}

/**
 * Runs `args` with `env` (complete: the store's and the passphrases) and kills it at a point
 * picked for `op`; a run that completed first feeds the estimate of `op`.
 */
export async function runKilled(
  w: World,
  what: string,
  args: string[],
  env: Record<string, string>,
  o: { rng: Rng; est: Estimates; op: string; proxy: HoldingProxy | undefined },
): Promise<KilledRun> {
  const vfs = w.store.kind === 'vfs';
  const point = pickPoint(o.rng, o.est.of(o.op), vfs);
  const before = o.proxy?.seen ?? 0;
  if (point.anchor === 'store-step') {
    const hook = stepHook(w, { step: point.request ?? 1, delayMs: point.delayMs });
    const result = await w.run(undefined, args, { env: { ...env, ...hook.env }, imports: hook.imports });
    const at = /^reliability-hook: kill at step (\d+)$/m.exec(result.stderr)?.[1];
    const told = steps(result);
    const killed = at !== undefined && result.signal === 'SIGKILL';
    if (!killed) o.est.add(o.op, result, told.length);
    const kill: KillOutcome = { killed, atMs: killed ? result.durationMs : undefined, progressLinesAtKill: result.progressLines };
    const call = at === undefined ? undefined : told[Number(at) - 1];
    return { point, kill, result, fault: `kill -9 ${what} at ${describePoint(point)}${call === undefined ? '' : `: ${call}`}` };
  }
  const run = w.start(args, { env: viaProxy(env, o.proxy) });
  const kill =
    point.anchor === 'store-request' && o.proxy !== undefined
      ? await killAtRequest(run, o.proxy, point, before)
      : await signalAt(run, point, 'SIGKILL');
  const result = await run.done;
  if (!kill.killed) o.est.add(o.op, result, o.proxy === undefined ? undefined : o.proxy.seen - before);
  return {
    point,
    kill,
    result,
    fault: `kill -9 ${what} at ${describePoint(point)}${kill.request === undefined ? '' : `: ${kill.request}`}`,
  };
}

/** Runs `args` uninterrupted (through the proxy, or counting its steps in a vfs store) and feeds the estimate of `op` when it succeeds. */
export async function runMeasured(
  w: World,
  args: string[],
  env: Record<string, string>,
  o: { est: Estimates; op: string; proxy: HoldingProxy | undefined },
): Promise<CliResult> {
  if (w.store.kind === 'vfs') {
    const hook = stepHook(w, { step: null });
    const r = await w.run(undefined, args, { env: { ...env, ...hook.env }, imports: hook.imports });
    o.est.add(o.op, r, steps(r).length);
    return r;
  }
  const before = o.proxy?.seen ?? 0;
  const r = await w.run(undefined, args, { env: viaProxy(env, o.proxy) });
  o.est.add(o.op, r, o.proxy === undefined ? undefined : o.proxy.seen - before);
  return r;
}
