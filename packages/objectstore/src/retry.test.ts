import { describe, expect, it } from 'vitest';
import { backoffDelay, withRetry, type RetryPolicy } from './retry.js';

function policy(delays: number[]): RetryPolicy {
  return { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, random: () => 1, sleep: async (ms) => void delays.push(ms) };
}

describe('withRetry', () => {
  it('retries retryable failures with growing, capped delays, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const out = await withRetry(
      policy(delays),
      () => true,
      async (attempt) => {
        calls++;
        if (attempt < 3) throw new Error('flaky');
        return 'ok';
      },
    );
    expect(out).toBe('ok');
    expect(calls).toBe(4);
    expect(delays).toEqual([100, 200, 400]);
  });

  it('gives up after maxAttempts and rethrows the last error', async () => {
    let calls = 0;
    const err = await withRetry(
      policy([]),
      () => true,
      async () => {
        calls++;
        throw new Error(`fail ${calls}`);
      },
    ).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect((err as Error).message).toBe('fail 4');
  });

  it('does not retry what is not retryable', async () => {
    let calls = 0;
    await expect(
      withRetry(
        policy([]),
        () => false,
        async () => {
          calls++;
          throw new Error('403');
        },
      ),
    ).rejects.toThrow('403');
    expect(calls).toBe(1);
  });

  it('starts no attempt past maxElapsedMs: attempts that each wait out a timeout end within the budget', async () => {
    let t = 0;
    let calls = 0;
    const p: RetryPolicy = {
      maxAttempts: 6,
      baseDelayMs: 100,
      maxDelayMs: 5_000,
      maxElapsedMs: 90_000,
      random: () => 1,
      now: () => t,
      sleep: async (ms) => void (t += ms),
    };
    const err = await withRetry(
      p,
      () => true,
      async () => {
        calls++;
        t += 60_000; // a request that stalls until the 60 s inactivity timeout
        throw new Error(`timed out ${calls}`);
      },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toBe('timed out 2');
    expect(t).toBeLessThan(150_000); // one lease expiry
  });

  it('caps the delay and applies jitter', () => {
    const p: RetryPolicy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 };
    expect(backoffDelay(p, 0)).toBe(50);
    expect(backoffDelay(p, 8)).toBe(500);
  });
});
