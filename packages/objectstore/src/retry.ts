/** Retry with exponential backoff and full jitter; time and randomness are injectable for tests. */
import { setTimeout as delay } from 'node:timers/promises';

export interface RetryPolicy {
  /** Total attempts including the first (>= 1). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5_000 };

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
 * Runs `fn(attempt)` until it succeeds, `isRetryable(err)` says no, or attempts run out.
 * The last error is rethrown unchanged.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  isRetryable: (err: unknown) => boolean,
  fn: (attempt: number) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= policy.maxAttempts || signal?.aborted === true || !isRetryable(err)) throw err;
      await (policy.sleep ?? sleep)(backoffDelay(policy, attempt), signal);
    }
  }
}
