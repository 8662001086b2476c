import { performance } from 'node:perf_hooks';
import { sleep } from '@convoy/objectstore';

/**
 * Time as the engine sees it, injected so leases, grace periods and waits are testable without
 * sleeping (shared/STYLE.md, kopia). `monotonic` judges a holder's own lease (it never jumps);
 * `now` only stamps records. Ages of objects in the store are judged by the store's clock
 * (lastModified), never by either of these.
 */
export interface Clock {
  /** Wall-clock time, for timestamps in records. */
  now(): Date;
  /** Milliseconds from an arbitrary origin that never goes back (performance.now()). */
  monotonic(): number;
  /** Waits `ms` (rejects with the signal's reason when aborted). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  monotonic: () => performance.now(),
  sleep,
};

/**
 * A clock for tests: time moves only when the test says so. `sleep` advances it at once (so a
 * waiting loop runs through without real time passing), and every MemoryObjectStore built on
 * `fake.now` stamps objects with the same time.
 */
export class FakeClock implements Clock {
  #ms: number;
  #mono = 0;
  constructor(start = Date.UTC(2026, 11, 1, 12, 0, 0)) {
    this.#ms = start;
  }
  now = (): Date => new Date(this.#ms);
  monotonic = (): number => this.#mono;
  advance(ms: number): void {
    this.#ms += ms;
    this.#mono += ms;
  }
  /** Moves the wall clock only (an NTP step); the monotonic clock does not follow. */
  jump(ms: number): void {
    this.#ms += ms;
  }
  /** Advances the clock at once, then yields one macrotask turn, so work that waits on I/O or setImmediate goes on. */
  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    signal?.throwIfAborted();
    this.advance(ms);
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
}
