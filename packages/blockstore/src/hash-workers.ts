// Block hashing and zero detection off the main thread, without copying the block: the buffer a
// block was read into is transferred to a worker thread (its ArrayBuffer moves, no bytes are
// copied), which checks it for zeros, hashes it with node:crypto and transfers it back.
//
// Why not WebCrypto's digest (libuv's pool): it copies its input on the calling thread first, into
// fresh memory, and that copy with its page faults cost the main thread more than hashing it there
// (0.2–8 ms per 2 MiB, varying with the allocator, against 0.6 ms for node:crypto's hash; tools/bench/README.md).
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { BlockstoreError } from './errors.js';

/** The worker's code, run as CommonJS from a string: no file to find next to a bundle or a .ts source. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash, createHmac } = require('node:crypto');
const ZERO = Buffer.alloc(64 * 1024);
function isZero(b) {
  for (let o = 0; o < b.length; o += ZERO.length) {
    const n = Math.min(ZERO.length, b.length - o);
    if (!b.subarray(o, o + n).equals(ZERO.subarray(0, n))) return false;
  }
  return true;
}
parentPort.on('message', (m) => {
  try {
    const view = Buffer.from(m.frame, m.offset, m.length);
    const zero = m.zeroCheck && isZero(view);
    const id = zero ? null : (m.key ? createHmac('sha256', m.key) : createHash('sha256')).update(view).digest();
    parentPort.postMessage({ job: m.job, frame: m.frame, zero, id }, [m.frame]);
  } catch (err) {
    parentPort.postMessage({ job: m.job, frame: m.frame, error: String(err && err.message || err) }, [m.frame]);
  }
});
`;

/** What a worker found in a block, and the block's memory back. */
export interface ScanResult {
  /** The transferred ArrayBuffer, returned (the caller's views of it were detached meanwhile). */
  frame: ArrayBuffer;
  /** Every byte of the range is zero (only when asked: `zeroCheck`); then there is no id. */
  zero: boolean;
  /** SHA-256, or HMAC-SHA256 under `key`, of the range. */
  id: Buffer | undefined;
}

export interface ScanRequest {
  /** The memory, owned by the caller alone: it is transferred away until the answer comes. */
  frame: ArrayBuffer;
  offset: number;
  length: number;
  /** HMAC key (an encrypted store's id key); none: SHA-256. */
  key?: Buffer;
  /** Check for zeros first (a zero range is not hashed). */
  zeroCheck: boolean;
}

interface Pending {
  resolve: (r: ScanResult) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

interface Answer {
  job: number;
  frame: ArrayBuffer;
  zero?: boolean;
  id?: Uint8Array | null;
  error?: string;
}

/**
 * A small pool of hashing threads, one per core (at most 4), started on first use. Idle threads do
 * not keep the process alive; a thread that dies fails its jobs and is replaced by the next scan.
 */
export class HashWorkers {
  readonly size: number;
  readonly #slots: (Slot | undefined)[];
  readonly #pending = new Map<number, Pending & { slot: Slot }>();
  #next = 1;

  constructor(size = Math.max(1, Math.min(4, os.availableParallelism()))) {
    this.size = size;
    this.#slots = Array.from({ length: size }, () => undefined);
  }

  scan(req: ScanRequest): Promise<ScanResult> {
    const slot = this.#leastBusy();
    const job = this.#next++;
    return new Promise<ScanResult>((resolve, reject) => {
      this.#pending.set(job, { resolve, reject, slot });
      if (slot.inFlight++ === 0) slot.worker.ref();
      try {
        const { frame, offset, length, key, zeroCheck } = req;
        slot.worker.postMessage({ job, frame, offset, length, key, zeroCheck }, [frame]);
      } catch (err) {
        this.#settle(job);
        reject(err as Error);
      }
    });
  }

  /** Stops the threads (jobs in flight fail). */
  async close(): Promise<void> {
    const workers = this.#slots.flatMap((s) => (s === undefined ? [] : [s.worker]));
    this.#slots.fill(undefined);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #leastBusy(): Slot {
    let best: Slot | undefined;
    for (let i = 0; i < this.#slots.length; i++) {
      const slot = this.#slots[i] ?? this.#start(i);
      if (slot.inFlight === 0) return slot;
      if (best === undefined || slot.inFlight < best.inFlight) best = slot;
    }
    return best as Slot;
  }

  #start(i: number): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'convoy-hash' });
    worker.unref();
    const slot: Slot = { worker, inFlight: 0 };
    this.#slots[i] = slot;
    worker.on('message', (m: Answer) => {
      const p = this.#settle(m.job);
      if (p === undefined) return;
      if (m.error !== undefined) p.reject(hashingFailed(`block hashing failed: ${m.error}`));
      else
        p.resolve({
          frame: m.frame,
          zero: m.zero === true,
          id: m.id === null || m.id === undefined ? undefined : Buffer.from(m.id.buffer, m.id.byteOffset, m.id.byteLength),
        });
    });
    const fail = (why: string): void => {
      if (this.#slots[i] === slot) this.#slots[i] = undefined;
      for (const [job, p] of this.#pending) {
        if (p.slot !== slot) continue;
        this.#settle(job);
        p.reject(hashingFailed(`block hashing thread ${why}`));
      }
    };
    worker.on('error', (err) => fail(`failed: ${err.message}`));
    worker.on('exit', (code) => fail(`exited (${code})`));
    return slot;
  }

  #settle(job: number): (Pending & { slot: Slot }) | undefined {
    const p = this.#pending.get(job);
    if (p === undefined) return undefined;
    this.#pending.delete(job);
    if (--p.slot.inFlight === 0) p.slot.worker.unref();
    return p;
  }
}

/** A thread that failed or died: nothing was hashed wrongly, but the operation cannot go on (a bug or the system's limits). */
const hashingFailed = (message: string): BlockstoreError =>
  new BlockstoreError('CONVOY_INTERNAL', message, {
    hint: 'run the operation again; if it keeps failing, check memory and thread limits (ulimit -u) and report it',
  });

let shared: HashWorkers | undefined;

/** The process's pool, started on first use. */
export function hashWorkers(): HashWorkers {
  shared ??= new HashWorkers();
  return shared;
}
