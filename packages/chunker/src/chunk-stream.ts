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

/** The search configuration of validated parameters. */
export function scanConfig(params: ChunkerParams): ScanConfig {
  const p = parseChunkerParams(params);
  const bits = Math.log2(p.avgSize);
  return {
    minSize: p.minSize,
    normalSize: p.avgSize,
    maxSize: p.maxSize,
    maskS: topBitsMask(bits + p.normalization),
    maskL: topBitsMask(bits - p.normalization),
    gear: gearTable(p.seed),
  };
}

/** Chunk lengths of a buffer held in memory (synchronous; for small inputs and tests). */
export function chunkLengths(data: Uint8Array, params: ChunkerParams = DEFAULT_CHUNKER_PARAMS): number[] {
  const cuts: number[] = [];
  scanCuts(data, 0, data.length, START_STATE, scanConfig(params), cuts);
  if ((cuts.at(-1) ?? 0) < data.length) cuts.push(data.length);
  return cuts.map((c, i) => c - (i === 0 ? 0 : cuts[i - 1]!));
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function scanBatch(queue: ByteQueue, from: number, to: number, state: ScanState, cfg: ScanConfig, pool: CutterPool | undefined): Promise<{ cuts: number[]; state: ScanState }> {
  if (pool !== undefined) {
    const r = await pool.scan(queue.copyRange(from, to), state, cfg);
    return { cuts: r.cuts.map((c) => from + c), state: r.state };
  }
  await yieldToLoop();
  const cuts: number[] = [];
  let s = state;
  queue.forEachRange(from, to, (piece, start) => {
    const local: number[] = [];
    s = scanCuts(piece, 0, piece.length, s, cfg, local);
    for (const c of local) cuts.push(start + c);
  });
  return { cuts, state: s };
}

/**
 * Cuts `source` into content-defined chunks. Deterministic: the same bytes give the same chunks
 * whatever the read sizes. A stream shorter than minSize is one chunk; an empty one, none.
 * The chunks' `data` may share memory with the source's buffers.
 */
export async function* chunkStream(source: AsyncIterable<Uint8Array | string>, options: ChunkOptions = {}): AsyncGenerator<Chunk> {
  const cfg = scanConfig(options.params ?? DEFAULT_CHUNKER_PARAMS);
  const batch = Math.max(1, Math.floor(options.batchBytes ?? 1024 * 1024));
  const queue = new ByteQueue(); // starts at the current chunk's first byte
  let offset = 0; // stream offset of the queue's first byte
  let scanned = 0; // queue bytes already scanned
  let state: ScanState = START_STATE;

  async function* step(eof: boolean): AsyncGenerator<Chunk> {
    while (queue.length - scanned >= (eof ? 1 : batch)) {
      options.signal?.throwIfAborted();
      const to = Math.min(queue.length, scanned + batch);
      const r = await scanBatch(queue, scanned, to, state, cfg, options.pool);
      let consumed = 0;
      for (const cut of r.cuts) {
        const data = queue.take(cut - consumed);
        yield { offset, data };
        offset += data.length;
        consumed = cut;
      }
      scanned = to - consumed;
      state = r.state;
    }
  }

  for await (const piece of source) {
    if (typeof piece === 'string') {
      throw new ConvoyError('CONVOY_CHUNKER_INPUT_INVALID', 'the chunker reads bytes, not text', { hint: 'this is a bug: open the stream without an encoding' });
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
