import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkLengths, chunkStream, scanConfig } from './chunk-stream.js';
import { DEFAULT_CHUNKER_PARAMS, type ChunkerParams } from './params.js';
import { CutterPool } from './pool.js';
import { START_STATE } from './scan.js';
import { pieces, randomData } from '../test/data.js';

const SMALL: ChunkerParams = { ...DEFAULT_CHUNKER_PARAMS, minSize: 64, avgSize: 256, maxSize: 1024 };
const pool = new CutterPool({ size: 2 });
afterAll(() => pool.close());

async function lengthsVia(input: Uint8Array, reads: number[], params: ChunkerParams, batchBytes: number): Promise<number[]> {
  const out: number[] = [];
  for await (const c of chunkStream(pieces(input, reads), { params, pool, batchBytes })) out.push(c.data.length);
  return out;
}

describe('CutterPool', () => {
  it('worker threads cut exactly where the inline search does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.integer({ min: 1, max: 6000 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 100, max: 3000 }),
        async (seed, n, read, batch) => {
          const input = randomData(seed, n);
          expect(await lengthsVia(input, [read], SMALL, batch)).toEqual(chunkLengths(input, SMALL));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('chunks several streams at once with the default parameters', async () => {
    const inputs = [1, 2, 3].map((s) => randomData(s, 6 * 1024 * 1024 + s));
    const got = await Promise.all(inputs.map((d) => lengthsVia(d, [65536], DEFAULT_CHUNKER_PARAMS, 1024 * 1024)));
    expect(got).toEqual(inputs.map((d) => chunkLengths(d)));
  });

  it('a closed pool refuses work with a clear error', async () => {
    const closed = new CutterPool({ size: 1 });
    await closed.close();
    await expect(closed.scan(new Uint8Array(10), START_STATE, scanConfig(SMALL))).rejects.toMatchObject({ code: 'CONVOY_INTERNAL' });
  });
});
