// One run under test killed with SIGKILL at a seeded point, for the campaigns that kill a single
// convoy-backup command (keys.ts, forget.ts): a delay within the measured length of an
// uninterrupted run, or (radosgw, through the holding proxy, half the time) a store-request
// boundary; the run's requests go through the proxy so they can be counted.
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

/**
 * A delay from spawn, uniform over [0.25, 1.02] of the typical run (its first quarter is mostly
 * Node starting), or a store request of a typical run (with a proxy and a request count).
 */
export function pickPoint(rng: Rng, est: ReturnType<Estimates['of']>, proxy: HoldingProxy | undefined): KillPoint {
  if (proxy !== undefined && est.requests !== undefined && rng.chance(0.5)) return pickRequestPoint(rng, est.requests);
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
  const point = pickPoint(o.rng, o.est.of(o.op), o.proxy);
  const before = o.proxy?.seen ?? 0;
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

/** Runs `args` uninterrupted (through the proxy) and feeds the estimate of `op` when it succeeds. */
export async function runMeasured(
  w: World,
  args: string[],
  env: Record<string, string>,
  o: { est: Estimates; op: string; proxy: HoldingProxy | undefined },
): Promise<CliResult> {
  const before = o.proxy?.seen ?? 0;
  const r = await w.run(undefined, args, { env: viaProxy(env, o.proxy) });
  o.est.add(o.op, r, o.proxy === undefined ? undefined : o.proxy.seen - before);
  return r;
}
