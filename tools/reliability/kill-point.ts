// Where a trial kills (or pauses) a process: anchored at its spawn or at its first `--json`
// progress line (the first block done, the first maintenance phase), then a seeded delay scaled
// by how long that operation took when nobody interrupted it. The estimates come from the same
// campaign's uninterrupted runs (set-up runs and re-runs), so kill points follow the operation's
// real length on this machine and store.
import type { CliResult, CliRun } from './convoy.js';
import type { Rng } from './prng.js';
import type { Held, HoldingProxy } from './s3-proxy.js';

export interface KillPoint {
  anchor: 'spawn' | 'first-progress' | 'store-request' | 'store-step';
  delayMs: number;
  /**
   * store-request: the process dies as its `request`-th store request arrives at the proxy (s3-proxy.ts)…
   * store-step: as it makes its `request`-th filesystem change in a vfs store (daemon-kill-hook.ts; `delayMs` later).
   */
  request?: number;
  /** …which is then sent on to the store (it lands after its client died) or dropped. */
  landed?: boolean;
}

export interface KillOutcome {
  /** The process was killed (else it exited first). */
  killed: boolean;
  /** ms from spawn to the signal. */
  atMs: number | undefined;
  progressLinesAtKill: number;
  /** store-request kills: the request (method and key) the process died on. */
  request?: string;
}

/** Medians of uninterrupted runs, per operation. */
export class Estimates {
  readonly #samples = new Map<string, { duration: number[]; first: number[]; requests: number[] }>();

  /** `requests`: how many store requests the run made (when it went through the proxy). */
  add(op: string, r: CliResult, requests?: number): void {
    if (r.code !== 0) return;
    const s = this.#samples.get(op) ?? { duration: [], first: [], requests: [] };
    if (requests !== undefined) s.requests.push(requests);
    const typical = median(s.duration);
    if (typical !== undefined && s.duration.length >= 3 && r.durationMs > 3 * typical) return; // waited for a lease: not the operation's length
    s.duration.push(r.durationMs);
    if (r.firstProgressMs !== undefined) s.first.push(r.firstProgressMs);
    this.#samples.set(op, s);
  }

  of(op: string): { durationMs: number; firstProgressMs: number | undefined; requests: number | undefined } {
    const s = this.#samples.get(op);
    return { durationMs: median(s?.duration ?? []) ?? 500, firstProgressMs: median(s?.first ?? []), requests: median(s?.requests ?? []) };
  }
}

function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * A third of the points fall before the first progress line (lease, header, listing: the
 * operation's store work before its first block), the rest after it, up to a little past the
 * typical end (a kill that comes too late tests the completed case).
 */
export function pickKillPoint(rng: Rng, est: { durationMs: number; firstProgressMs: number | undefined }): KillPoint {
  const d = est.durationMs;
  const f = est.firstProgressMs;
  if (f === undefined || f >= d) return { anchor: 'spawn', delayMs: Math.round(rng.between(0.55, 1.05) * d) };
  if (rng.chance(1 / 3)) return { anchor: 'spawn', delayMs: Math.round(rng.between(0.7, 1) * f) };
  return { anchor: 'first-progress', delayMs: Math.round(rng.between(0, 1.1) * (d - f)) };
}

export const describePoint = (p: KillPoint): string =>
  p.anchor === 'spawn'
    ? `${p.delayMs} ms after spawn`
    : p.anchor === 'first-progress'
      ? `first progress line + ${p.delayMs} ms`
      : p.anchor === 'store-step'
        ? `its store step #${p.request}${p.delayMs > 0 ? ` + ${p.delayMs} ms` : ''}`
        : `its store request #${p.request} (${p.landed === true ? 'sent on after the kill' : 'dropped'})`;

/** A store request of a typical run, and whether it lands: every request boundary is a kill point. */
export function pickRequestPoint(rng: Rng, requests: number): KillPoint {
  return { anchor: 'store-request', delayMs: 0, request: rng.int(1, Math.max(1, requests)), landed: rng.chance(0.5) };
}

/**
 * Sends `signal` to `run` at `point` (unless it exited first) and answers what happened. The
 * caller awaits `run.done` itself.
 */
export function signalAt(run: CliRun, point: KillPoint, signal: NodeJS.Signals, onSignalled?: () => void): Promise<KillOutcome> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const fire = (): void => {
      if (run.exited) return;
      const outcome: KillOutcome = { killed: true, atMs: performance.now() - run.startedAt, progressLinesAtKill: run.progressLines };
      run.signal(signal);
      onSignalled?.();
      resolve(outcome);
    };
    const arm = (): void => {
      timer = setTimeout(fire, point.delayMs);
    };
    if (point.anchor === 'spawn' || run.progressLines > 0) arm();
    else {
      let armed = false;
      run.onProgress(() => {
        if (armed) return;
        armed = true;
        arm();
      });
    }
    void run.done.then(() => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ killed: false, atMs: undefined, progressLinesAtKill: run.progressLines });
    });
  });
}

/**
 * Kills `run` as its `point.request`-th store request (counted from `before`) reaches the proxy,
 * then sends that request on or drops it. Answers like signalAt, plus which request it was.
 */
export async function killAtRequest(run: CliRun, proxy: HoldingProxy, point: KillPoint, before: number): Promise<KillOutcome> {
  const held = proxy.holdNext((_req, log) => log.length - before === (point.request ?? 1) - 1);
  const h: Held | undefined = await Promise.race([held, run.done.then(() => undefined)]);
  if (h === undefined) {
    proxy.cancel();
    return { killed: false, atMs: undefined, progressLinesAtKill: run.progressLines };
  }
  const outcome: KillOutcome = { killed: true, atMs: performance.now() - run.startedAt, progressLinesAtKill: run.progressLines };
  run.signal('SIGKILL');
  await run.done;
  if (point.landed === true) h.release();
  else h.drop();
  const key = h.request.path.split('/').slice(2).join('/'); // /bucket/prefix/key → prefix/key
  return { ...outcome, request: `${h.request.method} ${key}` };
}
