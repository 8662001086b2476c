/** Retry with exponential backoff and full jitter; time and randomness are injectable for tests. */
import { setTimeout as delay } from 'node:timers/promises';

export interface RetryPolicy {
  /** Total attempts including the first (>= 1). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * No further attempt once this much time has passed since the first one began (counting the
   * delay before it): bounds a call whose attempts each wait out a timeout. Default: no bound.
   */
  maxElapsedMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
}

/**
 * 6 attempts, at most ~3 s of backoff between them in all; no new attempt past 90 s, so a call
 * whose attempts each stall until the S3 store's 60 s inactivity timeout gives up within ~2 min,
 * inside one lease expiry (150 s).
 */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5_000, maxElapsedMs: 90_000 };

export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor((policy.random ?? Math.random)() * cap);
}

/** Waits `ms` (node:timers/promises); an abort rejects with the signal's reason. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal === undefined ? undefined : { signal });
  } catch (err) {
    throw signal?.aborted === true ? signal.reason : err;
  }
}

/**
 * Runs `fn(attempt)` until it succeeds, `isRetryable(err)` says no, or attempts (or the time
 * budget, `maxElapsedMs`) run out.
 * The last error is rethrown unchanged.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  isRetryable: (err: unknown) => boolean,
  fn: (attempt: number) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const now = policy.now ?? (() => performance.now());
  const started = now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= policy.maxAttempts || signal?.aborted === true || !isRetryable(err)) throw err;
      const delay = backoffDelay(policy, attempt);
      if (policy.maxElapsedMs !== undefined && now() - started + delay >= policy.maxElapsedMs) throw err;
      await (policy.sleep ?? sleep)(delay, signal);
    }
  }
}
