// One benchmark run against one ObjectStore: rounds of put every object, get every object back,
// verify, delete. Only the put and get phases are timed.
import { createHash, randomBytes } from 'node:crypto';
import type { ObjectStore } from '@convoy/objectstore';

/** The objects every round writes: random, distinct bodies and the sha256 of each. */
export interface Payload {
  bodies: Buffer[];
  sha256: string[];
  objectBytes: number;
}

export interface PhaseResult {
  seconds: number;
  /** Decimal megabytes (10^6 bytes) per second. */
  mbPerSec: number;
  opsPerSec: number;
}

export interface RoundResult {
  put: PhaseResult;
  get: PhaseResult;
}

export interface RunResult {
  store: string;
  location: string;
  concurrency: number;
  count: number;
  objectBytes: number;
  /** The median round's put phase (phases are ranked separately). */
  put: PhaseResult;
  /** The median round's get phase. */
  get: PhaseResult;
  rounds: RoundResult[];
}

export function makePayload(count: number, objectBytes: number): Payload {
  const bodies: Buffer[] = [];
  const sha256: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = randomBytes(objectBytes);
    bodies.push(body);
    sha256.push(sha256Hex(body));
  }
  return { bodies, sha256, objectBytes };
}

/**
 * One untimed put, get and delete, so that one-time costs (radosgw creates its data pool on the
 * first write into it, about 2 s here) are not charged to the first measured run.
 */
export async function warmUp(store: ObjectStore, body: Buffer, signal: AbortSignal): Promise<void> {
  const key = 'bench/warm-up';
  try {
    await store.put(key, body, { signal });
    const got = await store.get(key, { signal });
    if (!got.equals(body)) throw new Error(`${store.location}: ${key} read back different bytes than written`);
  } finally {
    await store.delete([key]);
  }
}

export interface RunOptions {
  /** A name for the table ("fs", "s3"). */
  store: string;
  concurrency: number;
  /** Each round writes, reads and deletes the whole payload; the median round is reported. */
  rounds: number;
  /** Keys are `<prefix>/<index>`; the prefix must hold no objects before the run. */
  prefix: string;
  signal: AbortSignal;
  log: (line: string) => void;
}

/**
 * Puts all objects of the payload, then gets them all, `concurrency` operations in flight, and
 * checks that every object read back has the sha256 of what was written (else it throws: a store
 * that returns wrong data has no throughput worth reporting). The objects are deleted after each
 * round, also when it fails, and the prefix is checked to be empty again. Repeated `rounds` times.
 */
export async function runBenchmark(store: ObjectStore, payload: Payload, options: RunOptions): Promise<RunResult> {
  const rounds: RoundResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    options.signal.throwIfAborted();
    rounds.push(await runRound(store, payload, options, `${options.store} c=${options.concurrency} #${round}`));
  }
  return {
    store: options.store,
    location: store.location,
    concurrency: options.concurrency,
    count: payload.bodies.length,
    objectBytes: payload.objectBytes,
    put: median(rounds.map((r) => r.put)),
    get: median(rounds.map((r) => r.get)),
    rounds,
  };
}

async function runRound(store: ObjectStore, payload: Payload, options: RunOptions, tag: string): Promise<RoundResult> {
  const { bodies, sha256 } = payload;
  const count = bodies.length;
  const keys = bodies.map((_, i) => `${options.prefix}/${String(i).padStart(6, '0')}`);
  try {
    collectGarbage();
    const putStart = performance.now();
    await forEachConcurrently(count, options.concurrency, options.signal, async (i, signal) => {
      await store.put(keys[i] as string, bodies[i] as Buffer, { signal });
    });
    const put = phase(performance.now() - putStart, count, payload.objectBytes);

    const read: (Buffer | undefined)[] = new Array<Buffer | undefined>(count);
    collectGarbage();
    const getStart = performance.now();
    await forEachConcurrently(count, options.concurrency, options.signal, async (i, signal) => {
      read[i] = await store.get(keys[i] as string, { signal });
    });
    const get = phase(performance.now() - getStart, count, payload.objectBytes);

    // Verified after the clock stopped: hashing (~1.4 GiB/s on one core) is not the store's time.
    const wrong: string[] = [];
    for (let i = 0; i < count; i++) {
      const got = read[i];
      const hash = got === undefined ? 'nothing' : sha256Hex(got);
      if (hash !== sha256[i]) {
        wrong.push(`${keys[i]}: wrote ${payload.objectBytes} bytes sha256 ${sha256[i]}, read ${got?.length ?? 0} bytes sha256 ${hash}`);
      }
      read[i] = undefined;
    }
    if (wrong.length > 0) {
      throw new Error(`${tag}: ${wrong.length} of ${count} objects read back wrong from ${store.location}; first: ${wrong[0]}`);
    }
    options.log(`${tag}: put ${put.seconds.toFixed(2)} s, get ${get.seconds.toFixed(2)} s, ${count} objects verified (sha256)`);
    return { put, get };
  } finally {
    await cleanUp(store, keys, options.prefix);
  }
}

async function cleanUp(store: ObjectStore, keys: string[], prefix: string): Promise<void> {
  // Not under the run's signal: after Ctrl-C the objects still have to go.
  await store.delete(keys);
  for await (const left of store.list(`${prefix}/`)) {
    throw new Error(`${store.location}: ${left.key} is still there after deleting the run's objects`);
  }
}

function median(phases: PhaseResult[]): PhaseResult {
  const sorted = [...phases].sort((a, b) => a.seconds - b.seconds);
  const m = sorted[Math.floor((sorted.length - 1) / 2)];
  if (m === undefined) throw new Error('median of no rounds');
  return m;
}

/**
 * With `node --expose-gc`, a full collection before each timed phase, so that the previous round's
 * garbage (hundreds of MiB of buffers) is not collected on this phase's clock.
 */
function collectGarbage(): void {
  globalThis.gc?.();
}

function phase(ms: number, count: number, objectBytes: number): PhaseResult {
  const seconds = ms / 1000;
  return { seconds, mbPerSec: (count * objectBytes) / 1e6 / seconds, opsPerSec: count / seconds };
}

/**
 * Calls fn(0 … n-1) with at most `concurrency` calls in flight. On the first failure (or abort) no
 * new calls start and the others are aborted; it returns only when every call has settled.
 */
async function forEachConcurrently(
  n: number,
  concurrency: number,
  outer: AbortSignal,
  fn: (index: number, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  const signal = AbortSignal.any([outer, stop.signal]);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      signal.throwIfAborted();
      const i = next++;
      try {
        await fn(i, signal);
      } catch (err) {
        stop.abort(err);
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(concurrency, n) }, worker));
  outer.throwIfAborted();
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) throw stop.signal.aborted ? stop.signal.reason : failed.reason;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
