// Streaming FastCDC: cuts a byte stream into chunks, holding at most one chunk (maxSize) plus one
// scan batch in memory, and never blocking the event loop for longer than one batch's scan.
import { ConvoyError } from '@convoy/errors';
import { Duplex } from 'node:stream';
import { ByteQueue } from './byte-queue.js';
import { gearTable } from './gear.js';
import { DEFAULT_CHUNKER_PARAMS, parseChunkerParams, topBitsMask, type ChunkerParams } from './params.js';
import type { CutterPool } from './pool.js';
import { START_STATE, scanCuts, type ScanConfig, type ScanState } from './scan.js';

/** One chunk: its offset in the stream and its bytes. */
export interface Chunk {
  offset: number;
  data: Buffer;
}

export interface ChunkOptions {
  params?: ChunkerParams;
  /** Run the cut search on these worker threads; without one it runs inline in batches. */
  pool?: CutterPool;
  /** Bytes scanned per step (default 1 MiB): inline, the event loop gets a turn after each. */
  batchBytes?: number;
  signal?: AbortSignal;
}

const configs = new WeakMap<ChunkerParams, ScanConfig>();

/** The search configuration of validated parameters (cached per params object: a backup chunks
 * thousands of small files with the same one). */
export function scanConfig(params: ChunkerParams): ScanConfig {
  const known = configs.get(params);
  if (known !== undefined) return known;
  const p = parseChunkerParams(params);
  const bits = Math.log2(p.avgSize);
  const cfg: ScanConfig = {
    minSize: p.minSize,
    normalSize: p.avgSize,
    maxSize: p.maxSize,
    maskS: topBitsMask(bits + p.normalization),
    maskL: topBitsMask(bits - p.normalization),
    gear: gearTable(p.seed),
  };
  if (Object.isFrozen(params)) configs.set(params, cfg); // a mutable object could change later
  return cfg;
}

/** Chunk lengths of a buffer held in memory (synchronous; for small inputs and tests). */
export function chunkLengths(data: Uint8Array, params: ChunkerParams = DEFAULT_CHUNKER_PARAMS): number[] {
  const cuts: number[] = [];
  scanCuts(data, 0, data.length, START_STATE, scanConfig(params), cuts);
  if ((cuts.at(-1) ?? 0) < data.length) cuts.push(data.length);
  return cuts.map((c, i) => c - (i === 0 ? 0 : cuts[i - 1]!));
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Scanned {
  /** Absolute stream offsets just past each chunk that ends in the batch. */
  cuts: number[];
  state: ScanState;
}

/**
 * Cuts `source` into content-defined chunks. Deterministic: the same bytes give the same chunks
 * whatever the read sizes. A stream shorter than minSize is one chunk; an empty one, none.
 * The chunks' `data` may share memory with the source's buffers. With a pool, the next batch is
 * scanned on a worker while the consumer works on the chunks of the last one.
 */
export async function* chunkStream(source: AsyncIterable<Uint8Array | string>, options: ChunkOptions = {}): AsyncGenerator<Chunk> {
  const cfg = scanConfig(options.params ?? DEFAULT_CHUNKER_PARAMS);
  const batch = Math.max(1, Math.floor(options.batchBytes ?? 1024 * 1024));
  const pool = options.pool;
  const queue = new ByteQueue(); // the stream from `offset` (the current chunk's start) on
  let offset = 0;
  let scanned = 0; // absolute offset up to which a scan is done or running
  let state: ScanState = START_STATE;
  let running: Promise<Scanned> | undefined;

  const start = (eof: boolean): boolean => {
    const avail = offset + queue.length - scanned;
    if (avail < (eof ? 1 : batch)) return false;
    const from = scanned;
    const to = from + Math.min(avail, batch);
    scanned = to;
    if (state.pos + (to - from) <= cfg.minSize) {
      // all of it lies in the current chunk's first minSize bytes, which are never hashed (most
      // files of a tree end here): no scan, no worker round trip
      running = Promise.resolve({ cuts: [], state: { pos: state.pos + (to - from), fp: 0 } });
    } else if (pool !== undefined) {
      running = pool
        .scan(queue.copyRange(from - offset, to - offset), state, cfg)
        .then((r) => ({ cuts: r.cuts.map((c) => from + c), state: r.state }));
    } else {
      const s = state;
      running = yieldToLoop().then(() => {
        // `offset` is read now: chunks taken meanwhile all end at or before `from`
        const cuts: number[] = [];
        let next = s;
        queue.forEachRange(from - offset, to - offset, (piece, at) => {
          const local: number[] = [];
          next = scanCuts(piece, 0, piece.length, next, cfg, local);
          for (const c of local) cuts.push(offset + at + c);
        });
        return { cuts, state: next };
      });
    }
    return true;
  };

  async function* step(eof: boolean): AsyncGenerator<Chunk> {
    while (running !== undefined || start(eof)) {
      options.signal?.throwIfAborted();
      const r: Scanned = await running!;
      running = undefined;
      state = r.state;
      if (pool !== undefined) start(eof); // overlap the next scan with the consumer's work
      for (const cut of r.cuts) {
        const data = queue.take(cut - offset);
        yield { offset, data };
        offset = cut;
      }
    }
  }

  for await (const piece of source) {
    if (typeof piece === 'string') {
      throw new ConvoyError('CONVOY_INTERNAL', 'the chunker reads bytes, not text', {
        hint: 'this is a bug: open the stream without an encoding',
      });
    }
    queue.push(piece);
    yield* step(false);
  }
  yield* step(true);
  if (queue.length > 0) yield { offset, data: queue.take(queue.length) };
}

/** The same as a Duplex: write bytes, read Chunk objects. */
export function createChunker(options: ChunkOptions = {}): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Uint8Array>) {
    yield* chunkStream(source, options);
  });
}
