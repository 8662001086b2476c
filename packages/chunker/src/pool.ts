// A small pool of worker threads that run the cut search (scan.ts), so chunking a file never holds
// the event loop for more than a message round trip.
import { ConvoyError } from '@convoy/errors';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { WORKER_MARK, type ScanConfig, type ScanJob, type ScanResult, type ScanState } from './scan.js';

export interface CutterPoolOptions {
  /** Worker threads (default: available cores − 1, at least 1, at most 4). */
  size?: number;
}

interface Pending {
  resolve: (r: ScanResult) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  pending: Map<number, Pending>;
}

// From the sources (tests, tools) this module is scan.ts's sibling .ts file; from dist, .js.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './scan.ts' : './scan.js', import.meta.url);

/**
 * Runs cut searches on worker threads. Jobs go to an idle worker or wait in a queue; workers are
 * started on first use and are unref'd while idle, so an open pool never keeps a process alive.
 * A worker that dies fails its job (CONVOY_INTERNAL) and is replaced on next use.
 */
export class CutterPool {
  readonly size: number;
  #slots: Slot[] = [];
  #queue: { job: ScanJob; pending: Pending }[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: CutterPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.size ?? Math.min(4, Math.max(1, availableParallelism() - 1))));
  }

  /** Scans `data` (transferred to a worker and back: the caller must not use it meanwhile). */
  scan(data: Uint8Array, state: ScanState, config: ScanConfig): Promise<ScanResult> {
    if (this.#closed) {
      return Promise.reject(
        new ConvoyError('CONVOY_INTERNAL', 'the chunker worker pool is closed', {
          hint: 'this is a bug: a chunker was used after its pool was closed',
        }),
      );
    }
    const job: ScanJob = { id: this.#nextId++, data, state, config };
    return new Promise<ScanResult>((resolve, reject) => {
      this.#queue.push({ job, pending: { resolve, reject } });
      this.#dispatch();
    });
  }

  /** Stops the workers; jobs still queued or running fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const err = new ConvoyError('CONVOY_INTERNAL', 'the chunker worker pool was closed', {
      hint: 'close the pool only after its chunkers finished',
    });
    for (const q of this.#queue.splice(0)) q.pending.reject(err);
    await Promise.all(this.#slots.splice(0).map((s) => s.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => !s.busy);
      if (slot === undefined && this.#slots.length < this.size) slot = this.#spawn();
      if (slot === undefined) return;
      const next = this.#queue.shift();
      if (next === undefined) return;
      slot.busy = true;
      slot.pending.set(next.job.id, next.pending);
      slot.worker.ref();
      const buf = next.job.data.buffer as ArrayBuffer;
      const own = next.job.data.byteOffset === 0 && next.job.data.byteLength === buf.byteLength;
      slot.worker.postMessage(next.job, own ? [buf] : []);
    }
  }

  #spawn(): Slot {
    const worker = new Worker(WORKER_URL, { workerData: { role: WORKER_MARK } });
    const slot: Slot = { worker, busy: false, pending: new Map() };
    worker.unref();
    worker.on('message', (r: ScanResult) => {
      const p = slot.pending.get(r.id);
      slot.pending.delete(r.id);
      slot.busy = false;
      worker.unref();
      p?.resolve(r);
      this.#dispatch();
    });
    const fail = (cause: unknown): void => {
      this.#slots = this.#slots.filter((s) => s !== slot);
      const err = new ConvoyError('CONVOY_INTERNAL', `a chunker worker thread failed: ${String(cause)}`, {
        hint: 'this is a bug or the process ran out of memory; the backup can be run again',
        cause,
      });
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      if (!this.#closed) this.#dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (slot.pending.size > 0 || (!this.#closed && this.#slots.includes(slot))) fail(new Error(`exited with code ${code}`));
    });
    this.#slots.push(slot);
    return slot;
  }
}
