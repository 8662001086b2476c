import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { chunkLengths, chunkStream, createChunker, type Chunk } from './chunk-stream.js';
import { DEFAULT_CHUNKER_PARAMS, type ChunkerParams } from './params.js';
import { pieces, randomData } from '../test/data.js';

// Scaled-down parameters (64 B / 256 B / 1 KiB) keep property runs to milliseconds; the code
// path is the same as with the defaults.
const SMALL: ChunkerParams = { ...DEFAULT_CHUNKER_PARAMS, minSize: 64, avgSize: 256, maxSize: 1024 };

async function collect(source: AsyncIterable<Uint8Array>, params = SMALL, batchBytes = 300): Promise<Chunk[]> {
  const out: Chunk[] = [];
  for await (const c of chunkStream(source, { params, batchBytes })) out.push(c);
  return out;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('chunkStream', () => {
  it('concatenated chunks give back the input, every size within bounds, offsets contiguous', async () => {
    const data = fc.oneof(
      fc.uint8Array({ maxLength: 6000 }),
      fc.integer({ min: 0, max: 6000 }).map((n) => new Uint8Array(n)), // zeros: no content cut at all
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 6000 })).map(([s, n]) => randomData(s, n)),
    );
    await fc.assert(
      fc.asyncProperty(data, fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 }), async (input, reads) => {
        const chunks = await collect(pieces(input, reads));
        expect(Buffer.concat(chunks.map((c) => c.data)).equals(Buffer.from(input))).toBe(true);
        let offset = 0;
        chunks.forEach((c, i) => {
          expect(c.offset).toBe(offset);
          offset += c.data.length;
          expect(c.data.length).toBeLessThanOrEqual(SMALL.maxSize);
          if (i < chunks.length - 1) expect(c.data.length).toBeGreaterThan(SMALL.minSize);
          else expect(c.data.length).toBeGreaterThan(0);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('the same bytes give the same chunks whatever the read and batch sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.integer({ min: 0, max: 8000 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 5000 }),
        async (seed, n, reads, batch) => {
          const input = randomData(seed, n);
          const got = (await collect(pieces(input, reads), SMALL, batch)).map((c) => c.data.length);
          expect(got).toEqual(n === 0 ? [] : chunkLengths(input, SMALL));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('boundaries stay put under an edit far away: only chunks near the edit change', async () => {
    const edit = fc.record({
      seed: fc.nat(),
      at: fc.integer({ min: 0, max: 11_999 }),
      remove: fc.integer({ min: 0, max: 40 }),
      insert: fc.uint8Array({ maxLength: 40 }),
    });
    await fc.assert(
      fc.property(edit, ({ seed, at, remove, insert }) => {
        const before = randomData(seed, 40_000);
        const after = Buffer.concat([before.subarray(0, at), insert, before.subarray(at + remove)]);
        const shift = insert.length - Math.min(remove, before.length - at);
        const cutsOf = (d: Uint8Array): number[] =>
          chunkLengths(d, SMALL).map(
            (
              (sum) => (n: number) =>
                (sum += n)
            )(0),
          );
        const old = cutsOf(before);
        const now = new Set(cutsOf(after));
        // Cuts before the edit are untouched. After it, the first cut both have in common comes
        // within 1-2 average chunks as a rule (measured over 50,000 edits: the farthest was 28
        // average chunks; the tail falls geometrically), and from there on all are the same.
        const synced = old.find((c) => c > at + remove && now.has(c + shift));
        expect(synced).toBeDefined();
        expect(synced! - at).toBeLessThan(64 * SMALL.avgSize);
        for (const c of old) {
          if (c <= at || c >= synced!) expect(now.has(c <= at ? c : c + shift)).toBe(true);
        }
      }),
      { numRuns: Number(process.env.CHUNKER_RUNS ?? 200) },
    );
  });

  it('holds at most one chunk, one batch and one read of input at a time', async () => {
    const input = randomData(9, 24 * 1024 * 1024);
    let read = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const p of pieces(input, [65536])) {
        read += p.length;
        yield p;
      }
    }
    let most = 0;
    for await (const c of chunkStream(counted(), { batchBytes: 1024 * 1024 })) most = Math.max(most, read - c.offset);
    expect(most).toBeLessThanOrEqual(DEFAULT_CHUNKER_PARAMS.maxSize + 1024 * 1024 + 65536);
    expect(read).toBe(input.length);
  });

  it('a stream shorter than the minimum is one chunk; an empty stream is none', async () => {
    const small = randomData(1, DEFAULT_CHUNKER_PARAMS.minSize);
    const chunks = await collect(pieces(small, [4096]), DEFAULT_CHUNKER_PARAMS, 1024 * 1024);
    expect(chunks.map((c) => c.data.length)).toEqual([DEFAULT_CHUNKER_PARAMS.minSize]);
    expect(await collect(pieces(new Uint8Array(0), [1]))).toEqual([]);
  });

  it('with the default parameters chunks average about 1 MiB on random data', () => {
    const lengths = chunkLengths(randomData(7, 48 * 1024 * 1024));
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    expect(mean).toBeGreaterThan(0.75 * 1024 * 1024);
    expect(mean).toBeLessThan(1.75 * 1024 * 1024);
    expect(Math.max(...lengths.slice(0, -1))).toBeLessThanOrEqual(DEFAULT_CHUNKER_PARAMS.maxSize);
    expect(Math.min(...lengths.slice(0, -1))).toBeGreaterThan(DEFAULT_CHUNKER_PARAMS.minSize);
  });

  it('gives the event loop a turn between batches when scanning inline', async () => {
    const input = randomData(3, 8 * 1024 * 1024);
    let turns = 0;
    let stop = false;
    const tick = (): void => {
      turns++;
      if (!stop) setImmediate(tick);
    };
    setImmediate(tick);
    const chunks = await collect(pieces(input, [input.length]), DEFAULT_CHUNKER_PARAMS, 1024 * 1024);
    stop = true;
    expect(chunks.length).toBeGreaterThan(1);
    expect(turns).toBeGreaterThanOrEqual(8); // one per 1 MiB batch at least
  });

  it('createChunker is a Duplex from bytes to chunks', async () => {
    const input = randomData(5, 5000);
    const got: Chunk[] = [];
    await pipeline(Readable.from(pieces(input, [333])), createChunker({ params: SMALL }), async (chunks: AsyncIterable<Chunk>) => {
      for await (const c of chunks) got.push(c);
    });
    expect(got.map((c) => sha(c.data))).toEqual(
      chunkLengths(input, SMALL).map(
        (
          (at) => (n: number) =>
            sha(input.subarray(at, (at += n)))
        )(0),
      ),
    );
  });

  it('stops with the abort reason when its signal fires', async () => {
    const ac = new AbortController();
    const input = randomData(4, 4 * 1024 * 1024);
    const seen: number[] = [];
    const run = async (): Promise<void> => {
      for await (const c of chunkStream(pieces(input, [65536]), { signal: ac.signal })) {
        seen.push(c.offset);
        ac.abort(new Error('stop'));
      }
    };
    await expect(run()).rejects.toThrow('stop');
    expect(seen).toHaveLength(1);
  });

  it('refuses text: a stream opened with an encoding is a bug', async () => {
    async function* text(): AsyncGenerator<string> {
      yield 'abc';
    }
    await expect(async () => {
      for await (const _ of chunkStream(text())) void _;
    }).rejects.toMatchObject({ code: 'CONVOY_INTERNAL' });
  });
});
