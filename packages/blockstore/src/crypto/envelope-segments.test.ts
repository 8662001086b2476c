// The envelope's segment paths on random sizes: whole sealing (straight into one buffer), streamed
// sealing and segment-by-segment sealing all give what openBody opens; range opens of any run of
// segments give the body's bytes. AES-GCM is deterministic for a key, nonce, AAD and plaintext,
// and a segment opens only under the nonce and AAD it was sealed with, so "opens to the body"
// means each path wrote the bytes the format defines for its salt.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENVELOPE_HEADER, Sealer, TAG_BYTES, openBody, openHeader, openSegments, sealBody, sealStream, sealedSize } from './envelope.js';

const SEG = 4096;
const key = randomBytes(32);

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

async function* pieces(b: Buffer, sizes: readonly number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < b.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length] ?? 1);
    yield b.subarray(at, at + n);
    at += n;
  }
}

/** Segment by segment through Sealer.seal, each into a buffer of its own. */
function sealPiecewise(body: Buffer, name: string): Buffer {
  const s = new Sealer(key, name, SEG);
  const parts = [s.head];
  for (let off = 0; ; off += SEG) {
    const last = body.length - off < SEG;
    parts.push(s.seal(body.subarray(off, last ? body.length : off + SEG), last));
    if (last) return Buffer.concat(parts);
  }
}

const sizes = fc.oneof(
  fc.integer({ min: 0, max: 6 * SEG + 40 }),
  fc.constantFrom(0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 9 * SEG, 9 * SEG + 1, 17 * SEG - 1),
);

describe('envelope segments', () => {
  it('whole, streamed and segment-by-segment sealing of random sizes all open to the body', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, fc.array(fc.integer({ min: 1, max: 3 * SEG }), { minLength: 1, maxLength: 5 }), async (n, chunking) => {
        const body = randomBytes(n);
        const name = 'blocks/aa/bb/x.blk';
        for (const sealed of [
          sealBody(key, name, body, SEG),
          await collect(sealStream(key, name, pieces(body, chunking), SEG)),
          sealPiecewise(body, name),
        ]) {
          expect(sealed.length).toBe(sealedSize(n, SEG));
          expect(openBody(key, name, sealed, SEG).equals(body)).toBe(true);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('opening any run of segments (with or without the tail) gives those bytes of the body', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 * SEG }), fc.nat(), fc.nat(), (n, a, b) => {
        const body = randomBytes(n);
        const sealed = sealBody(key, 'packs/p', body, SEG);
        const segments = Math.floor(n / SEG) + 1;
        const first = a % segments;
        const count = 1 + (b % (segments - first));
        const step = SEG + TAG_BYTES;
        const held = sealed.subarray(ENVELOPE_HEADER + first * step, ENVELOPE_HEADER + (first + count) * step);
        const opened = openSegments(openHeader(key, 'packs/p', sealed), 'packs/p', held, first, SEG, false);
        expect(opened.equals(body.subarray(first * SEG, (first + count) * SEG))).toBe(true);
        // With the tail required, only a run that reaches the object's end opens.
        if (first + count === segments)
          expect(openSegments(openHeader(key, 'packs/p', sealed), 'packs/p', held, first, SEG, true)).toEqual(opened);
        else expect(() => openSegments(openHeader(key, 'packs/p', sealed), 'packs/p', held, first, SEG, true)).toThrow(/truncated/);
      }),
      { numRuns: 80 },
    );
  });

  it('names the first segment that does not authenticate, and a segment cut below its tag', () => {
    const sealed = sealBody(key, 'a', randomBytes(20 * SEG), SEG);
    for (const seg of [3, 12, 19]) {
      const at = ENVELOPE_HEADER + seg * (SEG + TAG_BYTES) + 5;
      sealed[at] = (sealed[at] ?? 0) ^ 0xff;
    }
    expect(() => openBody(key, 'a', sealed, SEG)).toThrow(/segment 3 does not authenticate/);
    const short = sealBody(key, 'b', randomBytes(2 * SEG + 5), SEG);
    expect(() => openBody(key, 'b', short.subarray(0, short.length - TAG_BYTES - 1), SEG)).toThrow(/segment 2 is truncated/);
  });
});
