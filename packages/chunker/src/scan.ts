// The FastCDC cut-point search, and the worker that runs it off the main thread.
//
// This file is also the worker's entry point, so it imports nothing but node:worker_threads: from
// the TypeScript sources (tests, tools) Node runs it with type stripping, where a relative
// './x.js' import of a .ts file would not resolve. Keep it that way.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

/** What the cut search needs, derived from ChunkerParams (see scanConfig). */
export interface ScanConfig {
  minSize: number;
  normalSize: number;
  maxSize: number;
  /** Strict mask, used while the chunk is shorter than normalSize. */
  maskS: number;
  /** Loose mask, used from normalSize on. */
  maskL: number;
  gear: Int32Array;
}

/** Where the search stands inside the current chunk: its length so far, and the gear hash. */
export interface ScanState {
  pos: number;
  fp: number;
}

export const START_STATE: Readonly<ScanState> = Object.freeze({ pos: 0, fp: 0 });

/**
 * Scans data[from, to) from `state`, appends to `cuts` the index just past each chunk that ends
 * in it, and returns the state at `to`. A chunk ends after the byte whose gear hash has no bit of
 * the mask set (the strict mask before normalSize, the loose one after), never at or before
 * minSize (those bytes are skipped unhashed), and at maxSize at the latest. The hash restarts at
 * each chunk, so a cut depends only on the bytes of its chunk: boundaries resynchronise after an
 * edit.
 */
export function scanCuts(data: Uint8Array, from: number, to: number, state: ScanState, cfg: ScanConfig, cuts: number[]): ScanState {
  const { minSize, normalSize, maxSize, maskS, maskL, gear } = cfg;
  let pos = state.pos;
  let fp = state.fp;
  let i = from;
  while (i < to) {
    if (pos < minSize) {
      const skip = Math.min(minSize - pos, to - i);
      i += skip;
      pos += skip;
      continue;
    }
    const strict = pos < normalSize;
    const mask = strict ? maskS : maskL;
    const end = Math.min(to, i + ((strict ? normalSize : maxSize) - pos));
    const start = i;
    let found = false;
    while (i < end) {
      fp = ((fp << 1) + gear[data[i++]!]!) | 0;
      if ((fp & mask) === 0) {
        found = true;
        break;
      }
    }
    pos += i - start;
    if (found || pos >= maxSize) {
      cuts.push(i);
      pos = 0;
      fp = 0;
    }
  }
  return { pos, fp };
}

/** A job for a cutter worker: `data` is transferred there and back. */
export interface ScanJob {
  id: number;
  data: Uint8Array;
  state: ScanState;
  config: ScanConfig;
}

export interface ScanResult {
  id: number;
  data: Uint8Array;
  cuts: number[];
  state: ScanState;
}

/** workerData that makes this module act as a cutter worker. */
export const WORKER_MARK = 'convoy-chunker-cutter';

if (!isMainThread && parentPort !== null && (workerData as { role?: unknown } | null)?.role === WORKER_MARK) {
  const port = parentPort;
  port.on('message', (job: ScanJob) => {
    const cuts: number[] = [];
    const state = scanCuts(job.data, 0, job.data.length, job.state, job.config, cuts);
    const result: ScanResult = { id: job.id, data: job.data, cuts, state };
    port.postMessage(result, [job.data.buffer as ArrayBuffer]);
  });
}
