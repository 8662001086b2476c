import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rejectionOf } from '@convoy/objectstore/testing';
import { ASYNC_MIN, openBodyAsync, openSegmentsAsync, sealBodyAsync } from './envelope-async.js';
import { ENVELOPE_HEADER, TAG_BYTES, openBody, openHeader, openSegments, sealBody, sealedSize } from './envelope.js';

const SEG = 4096;
const key = randomBytes(32);
const NAME = 'blocks/ab/cd/abcd.blk';

describe('envelope sealed and opened in the thread pool', () => {
  it('writes the bytes the synchronous envelope opens, and opens what it seals, at every length around the thresholds', async () => {
    for (const n of [0, 1, SEG, ASYNC_MIN - 1, ASYNC_MIN, ASYNC_MIN + 1, ASYNC_MIN + SEG, 3 * ASYNC_MIN + 17, 2 * 1024 * 1024]) {
      const body = randomBytes(n);
      const sealed = await sealBodyAsync(key, NAME, body, SEG);
      expect(sealed.length).toBe(sealedSize(n, SEG));
      expect(openBody(key, NAME, sealed, SEG).equals(body)).toBe(true);
      expect((await openBodyAsync(key, NAME, sealBody(key, NAME, body, SEG), SEG)).equals(body)).toBe(true);
      expect((await openBodyAsync(key, NAME, sealed, SEG)).equals(body)).toBe(true);
    }
  });

  it('opens any run of segments as the synchronous open does', async () => {
    const body = randomBytes(20 * SEG + 333);
    const sealed = sealBody(key, NAME, body, SEG);
    const k = openHeader(key, NAME, sealed);
    const step = SEG + TAG_BYTES;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 21 }), async (first, count) => {
        const from = ENVELOPE_HEADER + first * step;
        const bytes = sealed.subarray(from, Math.min(sealed.length, from + count * step));
        const endsHere = from + count * step >= sealed.length;
        const opened = await openSegmentsAsync(k, NAME, bytes, first, SEG, endsHere);
        expect(opened.equals(openSegments(k, NAME, bytes, first, SEG, endsHere))).toBe(true);
        expect(opened.equals(body.subarray(first * SEG, Math.min(body.length, (first + count) * SEG)))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a flipped byte anywhere, a cut-off end, another object name or another key, naming the object', async () => {
    const body = randomBytes(ASYNC_MIN * 2 + 99);
    const sealed = await sealBodyAsync(key, NAME, body, SEG);
    await fc.assert(
      fc.asyncProperty(fc.nat(), async (pick) => {
        const flipped = Buffer.from(sealed);
        const at = pick % sealed.length;
        flipped[at] = (flipped[at] ?? 0) ^ 0x40;
        const err = await rejectionOf(openBodyAsync(key, NAME, flipped, SEG));
        expect(err).toMatchObject({ code: 'CONVOY_OBJECT_TAMPERED', details: { key: NAME } });
      }),
      { numRuns: 100 },
    );
    const segment = Math.floor((ENVELOPE_HEADER + 5 * (SEG + TAG_BYTES) + 10 - ENVELOPE_HEADER) / (SEG + TAG_BYTES));
    const one = Buffer.from(sealed);
    one[ENVELOPE_HEADER + 5 * (SEG + TAG_BYTES) + 10] ^= 1;
    expect((await rejectionOf(openBodyAsync(key, NAME, one, SEG))).message).toContain(`segment ${segment} does not authenticate`);
    const cut = sealed.subarray(0, ENVELOPE_HEADER + 10 * (SEG + TAG_BYTES));
    expect((await rejectionOf(openBodyAsync(key, NAME, cut, SEG))).message).toMatch(/truncated/);
    expect(await rejectionOf(openBodyAsync(key, 'blocks/ab/cd/other.blk', sealed, SEG))).toMatchObject({ code: 'CONVOY_OBJECT_TAMPERED' });
    expect(await rejectionOf(openBodyAsync(randomBytes(32), NAME, sealed, SEG))).toMatchObject({ code: 'CONVOY_OBJECT_TAMPERED' });
    expect((await rejectionOf(openBodyAsync(key, NAME, body, SEG))).message).toMatch(/no encryption envelope/);
  });

  it('gives each object a fresh salt', async () => {
    const body = randomBytes(ASYNC_MIN);
    expect((await sealBodyAsync(key, NAME, body, SEG)).equals(await sealBodyAsync(key, NAME, body, SEG))).toBe(false);
  });
});
