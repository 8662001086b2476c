// Block work off the main thread, without copying the block: the buffer a block was read into is
// transferred to a worker thread (its ArrayBuffer moves, no bytes are copied), which checks it for
// zeros and hashes it with node:crypto, or zstd-encodes it in place, or decodes and hashes a stored
// object, and transfers the memory back (block-thread.ts is its code).
//
// Why not WebCrypto's digest (libuv's pool): it copies its input on the calling thread first, into
// fresh memory, and that copy with its page faults cost the main thread more than hashing it there
// (0.2–8 ms per 2 MiB, varying with the allocator, against 0.6 ms for node:crypto's hash; tools/bench/README.md).
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { BlockstoreError } from './errors.js';
import { WORKER_SOURCE } from './block-thread.js';
import { PROBE, ZSTD_LEVEL } from './format/codec.js';

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

/** A compression job: zstd over the range, written back over it when smaller. */
export interface CompressRequest {
  /** The memory, owned by the caller alone: it is transferred away until the answer comes. */
  frame: ArrayBuffer;
  offset: number;
  length: number;
  /**
   * The object's header for either outcome (its bytes sit right before `offset`): the thread
   * writes the one that applies and answers the SHA-256 of the whole object, header and payload.
   */
  heads?: { compressed: Buffer; none: Buffer };
}

export interface DecodeRequest {
  /** A zstd block object's memory, owned by the caller alone: it is transferred away for good. */
  frame: ArrayBuffer;
  /** Where its payload (the zstd frame) is. */
  offset: number;
  length: number;
  /** The decoded length its header states: more is corrupt. */
  expected: number;
  /** HMAC key (an encrypted store's id key); none: SHA-256. */
  key?: Buffer;
}

/** The decoded block and its id, or why the payload does not decode. */
export type DecodeResult = { data: Buffer; id: Buffer } | { corrupt: string };

export interface CompressResult {
  /** The transferred ArrayBuffer, returned. */
  frame: ArrayBuffer;
  /** The zstd frame's length, now at `offset`; undefined: the range is left as it was (stored as is). */
  size: number | undefined;
  /** With `heads`: the SHA-256 of the object (header and payload). */
  sha256: Buffer | undefined;
}

interface Pending {
  resolve: (a: Answer) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

interface Answer {
  job: number;
  frame: ArrayBuffer;
  memory?: NodeJS.MemoryUsage;
  zero?: boolean;
  id?: Uint8Array | null;
  size?: number;
  sha256?: Uint8Array;
  offset?: number;
  length?: number;
  corrupt?: string;
  error?: string;
}

/**
 * A small pool of block threads (hashing, zero checks, compression, decoding), started on first
 * use. Backups scan and compress on one per core but one (at least 1, at most 4: their main thread
 * reads, deduplicates and writes; on 2 cores a second thread made backups no faster and cost ~15 MB
 * of RSS, tools/bench/README.md). Restores decode on one per core (at most 4): their main thread
 * mostly waits for writes; on 2 cores the second thread took a 1 GiB restore from 1.06× to 0.99×
 * of borg's time for ~14 MB more RSS (tools/bench/README.md).
 * Idle threads do not keep the process alive; a thread that dies fails its jobs and is replaced by
 * the next job. Each holds ~13 MB (a V8 isolate).
 */
export class HashWorkers {
  /** Threads for backups' scans and compression. */
  readonly size: number;
  /** Threads for restores' decoding (≥ size): a restore's main thread mostly waits on writes. */
  readonly decodeSize: number;
  readonly #slots: (Slot | undefined)[];
  readonly #pending = new Map<number, Pending & { slot: Slot }>();
  #next = 1;

  constructor(size = Math.max(1, Math.min(4, os.availableParallelism() - 1)), decodeSize = Math.min(4, os.availableParallelism())) {
    this.size = size;
    this.decodeSize = Math.max(size, decodeSize);
    this.#slots = Array.from({ length: this.decodeSize }, () => undefined);
  }

  async scan(req: ScanRequest): Promise<ScanResult> {
    const { frame, offset, length, key, zeroCheck } = req;
    const a = await this.#run({ op: 'scan', frame, offset, length, key, zeroCheck });
    const id = a.id === null || a.id === undefined ? undefined : asBuffer(a.id);
    return { frame: a.frame, zero: a.zero === true, id };
  }

  /** zstd at the store's level (codec.ts), with the same probe for incompressible data as on the calling thread. */
  async compress(req: CompressRequest): Promise<CompressResult> {
    const { frame, offset, length, heads } = req;
    const a = await this.#run({ op: 'compress', frame, offset, length, heads, level: ZSTD_LEVEL, ...PROBE });
    const sha256 = a.sha256 === undefined ? undefined : asBuffer(a.sha256);
    return { frame: a.frame, size: a.size === undefined || a.size < 0 ? undefined : a.size, sha256 };
  }

  /** Decodes a zstd block object's payload and hashes the result, in one trip to a thread. */
  async decode(req: DecodeRequest): Promise<DecodeResult> {
    const { frame, offset, length, expected, key } = req;
    const a = await this.#run({ op: 'decode', frame, offset, length, expected, key }, this.decodeSize);
    if (a.corrupt !== undefined) return { corrupt: a.corrupt };
    const id = a.id as Uint8Array;
    return { data: Buffer.from(a.frame, a.offset, a.length), id: asBuffer(id) };
  }

  /** How many threads are running now (they start on first use). For tests and diagnostics. */
  get threads(): number {
    return this.#slots.filter((s) => s !== undefined).length;
  }

  /** process.memoryUsage() as one thread (the least busy) sees it: its own heap and external memory. For tests and diagnostics. */
  async threadMemory(): Promise<NodeJS.MemoryUsage> {
    const a = await this.#run({ op: 'memory' });
    return a.memory as NodeJS.MemoryUsage;
  }

  #run(msg: { frame?: ArrayBuffer } & Record<string, unknown>, threads = this.size): Promise<Answer> {
    const slot = this.#leastBusy(threads);
    const job = this.#next++;
    return new Promise<Answer>((resolve, reject) => {
      this.#pending.set(job, { resolve, reject, slot });
      if (slot.inFlight++ === 0) slot.worker.ref();
      try {
        slot.worker.postMessage({ ...msg, job }, msg.frame === undefined ? [] : [msg.frame]);
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

  /** The first idle thread of the first `threads` (started if need be), else the least busy of them. */
  #leastBusy(threads: number): Slot {
    let best: Slot | undefined;
    for (let i = 0; i < threads; i++) {
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
      if (m.error !== undefined) p.reject(hashingFailed(`block thread failed: ${m.error}`));
      else p.resolve(m);
    });
    const fail = (why: string): void => {
      if (this.#slots[i] === slot) this.#slots[i] = undefined;
      for (const [job, p] of this.#pending) {
        if (p.slot !== slot) continue;
        this.#settle(job);
        p.reject(hashingFailed(`block thread ${why}`));
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

/** A digest that came back as a plain Uint8Array (structured clone), as a Buffer over the same bytes. */
const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

let shared: HashWorkers | undefined;

/** The process's pool, started on first use. */
export function hashWorkers(): HashWorkers {
  shared ??= new HashWorkers();
  return shared;
}
