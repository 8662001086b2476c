import { isConvoyError } from '@convoy/errors';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHUNKER_PARAMS, parseChunkerParams, topBitsMask } from './params.js';
import { gearTable } from './gear.js';
import { createHash } from 'node:crypto';

describe('chunker parameters', () => {
  it('the defaults are 512 KiB / 1 MiB / 8 MiB and valid', () => {
    expect(parseChunkerParams({ ...DEFAULT_CHUNKER_PARAMS })).toEqual({
      algorithm: 'fastcdc-gear32',
      seed: 'convoy-fastcdc-gear32-v1',
      minSize: 524288,
      avgSize: 1048576,
      maxSize: 8388608,
      normalization: 2,
    });
  });

  it.each([
    [{ ...DEFAULT_CHUNKER_PARAMS, algorithm: 'rabin' }, 'algorithm'],
    [{ ...DEFAULT_CHUNKER_PARAMS, avgSize: 1000000 }, 'avgSize'],
    [{ ...DEFAULT_CHUNKER_PARAMS, minSize: 2 * 1024 * 1024 }, 'minSize < avgSize'],
    [{ ...DEFAULT_CHUNKER_PARAMS, maxSize: 4096 }, 'avgSize <= maxSize'],
    [null, 'invalid'],
  ])('refuses parameters it cannot honour (%#)', (value, words) => {
    let caught: unknown;
    try {
      parseChunkerParams(value, 'store header chunker');
    } catch (e) {
      caught = e;
    }
    expect(isConvoyError(caught, 'CONVOY_FORMAT_UNSUPPORTED')).toBe(true);
    expect(String((caught as Error).message)).toContain(words);
  });

  it('masks take the highest bits', () => {
    expect(topBitsMask(22) >>> 0).toBe(0xfffffc00);
    expect(topBitsMask(0)).toBe(0);
  });

  it('the default gear table is pinned (changing it changes every boundary in every store)', () => {
    const t = gearTable(DEFAULT_CHUNKER_PARAMS.seed);
    const digest = createHash('sha256').update(new Uint8Array(t.buffer)).digest('hex');
    expect(digest).toMatchInlineSnapshot(`"c1691244b86321889f8879a2e4ec091effa24a74c0e4bf9bc53707d52b225fe1"`);
    expect(gearTable(DEFAULT_CHUNKER_PARAMS.seed)).toBe(t);
  });
});
