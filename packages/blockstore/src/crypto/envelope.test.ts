import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PutBody, PutOptions } from '@convoy/objectstore';
import { MemoryObjectStore, rejectionOf } from '@convoy/objectstore/testing';
import { EncryptedStore, SealBuffers } from './encrypted-store.js';
import { ENVELOPE_HEADER, openBody, openedSize, sealBody, sealStream, sealedSize } from './envelope.js';
import { newMasterKey } from './master-key.js';

const SEG = 4096;
const key = randomBytes(32);

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

async function* pieces(b: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < b.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length] ?? 1);
    yield b.subarray(at, at + n);
    at += n;
  }
}

describe('envelope', () => {
  it('round-trips bodies of every length around segment boundaries, whole or streamed, and sizes map both ways', async () => {
    for (const n of [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 3 * SEG + 17]) {
      const body = randomBytes(n);
      const sealed = sealBody(key, 'blocks/aa/bb/x.blk', body, SEG);
      expect(sealed.length).toBe(sealedSize(n, SEG));
      expect(openedSize(sealed.length, SEG)).toBe(n);
      expect(openBody(key, 'blocks/aa/bb/x.blk', sealed, SEG).equals(body)).toBe(true);
      // Opened in place: a view of the stored bytes, overwritten with the body.
      const copy = Buffer.from(sealed);
      const opened = openBody(key, 'blocks/aa/bb/x.blk', copy, SEG, true);
      expect(opened.equals(body)).toBe(true);
      expect(opened.buffer).toBe(copy.buffer);
      const streamed = await collect(sealStream(key, 'k', pieces(body, [1000, 5000, 3]), SEG));
      expect(streamed.length).toBe(sealed.length);
      expect(openBody(key, 'k', streamed, SEG).equals(body)).toBe(true);
    }
  });

  it('sealing the same body twice gives different bytes (a fresh salt per object)', () => {
    const body = Buffer.from('same');
    expect(sealBody(key, 'k', body, SEG).equals(sealBody(key, 'k', body, SEG))).toBe(false);
  });

  it('any flipped byte, a cut-off end, another key name or another key is refused, never read', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * SEG }), fc.nat(), (n, pick) => {
        const body = Buffer.alloc(n, 7);
        const sealed = sealBody(key, 'volumes/v/backups/a.json', body, SEG);
        const flipped = Buffer.from(sealed);
        const at = pick % sealed.length;
        flipped[at] = (flipped[at] ?? 0) ^ 0x01;
        expect(() => openBody(key, 'volumes/v/backups/a.json', flipped, SEG)).toThrow(/fails authentication/);
        expect(() => openBody(key, 'volumes/v/backups/a.json', flipped, SEG, true)).toThrow(/fails authentication/);
        return true;
      }),
      { numRuns: 200 },
    );
    const body = randomBytes(2 * SEG + 5);
    const sealed = sealBody(key, 'a', body, SEG);
    // Cut at a segment boundary: the rest still authenticates segment by segment, but the end is gone.
    const cut = sealed.subarray(0, ENVELOPE_HEADER + 2 * (SEG + 16));
    expect(() => openBody(key, 'a', cut, SEG)).toThrow(/truncated|authenticate/);
    expect(() => openBody(key, 'b', sealed, SEG)).toThrow(/fails authentication/);
    expect(() => openBody(randomBytes(32), 'a', sealed, SEG)).toThrow(/fails authentication/);
    expect(() => openBody(key, 'a', body, SEG)).toThrow(/no encryption envelope/);
  });
});

describe('EncryptedStore', () => {
  it('stores no plaintext, reads ranges across segments, and reports body sizes', async () => {
    const inner = new MemoryObjectStore();
    const s = new EncryptedStore(inner, newMasterKey(), SEG, '0123456789abcdef');
    const body = Buffer.from('The quick brown fox. '.repeat(1000));
    await s.put('volumes/v/volume.json', body);
    const raw = inner.peek('volumes/v/volume.json') as Buffer;
    expect(raw.includes(Buffer.from('quick brown'))).toBe(false);
    expect((await s.get('volumes/v/volume.json')).equals(body)).toBe(true);
    expect((await s.stat('volumes/v/volume.json'))?.size).toBe(body.length);
    for await (const o of s.list('volumes/')) expect(o.size).toBe(body.length);
    for (const [offset, length] of [
      [0, 10],
      [SEG - 3, 10],
      [2 * SEG, SEG * 2 + 5],
      [body.length - 4, 100],
      [body.length + 5, 10],
    ] as const) {
      expect((await s.get('volumes/v/volume.json', { range: { offset, length } })).equals(body.subarray(offset, offset + length))).toBe(
        true,
      );
    }
    // Rewritten under the same key: the cached salt is stale, and the range read still works.
    const next = Buffer.from('Another body entirely. '.repeat(900));
    await inner.put('volumes/v/volume.json', sealBody(s.master.encKey, 'volumes/v/volume.json', next, SEG));
    expect(
      (await s.get('volumes/v/volume.json', { range: { offset: SEG + 1, length: 50 } })).equals(next.subarray(SEG + 1, SEG + 51)),
    ).toBe(true);
    // The header and key files stay plain.
    await s.put('convoy.json', Buffer.from('{}'));
    expect((inner.peek('convoy.json') as Buffer).toString()).toBe('{}');
  });

  it('a tampered object is CONVOY_OBJECT_TAMPERED naming the key; an object moved to another key too', async () => {
    const inner = new MemoryObjectStore();
    const s = new EncryptedStore(inner, newMasterKey(), SEG, '0123456789abcdef');
    await s.put('volumes/v/backups/a.json', Buffer.from('{"a":1}'));
    await s.put('volumes/v/backups/b.json', Buffer.from('{"b":2}'));
    inner.corrupt('volumes/v/backups/a.json', inner.peek('volumes/v/backups/b.json') as Buffer);
    const err = await rejectionOf(s.get('volumes/v/backups/a.json'));
    expect(err.code).toBe('CONVOY_OBJECT_TAMPERED');
    expect(err.message).toContain('volumes/v/backups/a.json');
  });

  it('a range read of an object cut at a segment boundary fails, wherever the range lies; past the end of a whole one it is empty', async () => {
    const inner = new MemoryObjectStore();
    const s = new EncryptedStore(inner, newMasterKey(), SEG, '0123456789abcdef');
    const body = randomBytes(3 * SEG + 100);
    await s.put('packs/p', body);
    // past the end of the whole object: empty, as on a plain store
    expect((await s.get('packs/p', { range: { offset: body.length + 1, length: 10 } })).length).toBe(0);
    expect((await s.get('packs/p', { range: { offset: 3 * SEG + 90, length: 100 } })).equals(body.subarray(3 * SEG + 90))).toBe(true);
    // its last segment lost: 3 whole segments remain, each authenticates on its own
    const sealed = inner.peek('packs/p') as Buffer;
    inner.corrupt('packs/p', sealed.subarray(0, ENVELOPE_HEADER + 3 * (SEG + 16)));
    for (const [offset, length] of [
      [3 * SEG + 10, 50], // inside the lost segment: the read finds nothing
      [5 * SEG, 10], // past even the untruncated end
      [2 * SEG + 10, SEG], // runs from a whole segment into the lost one
    ] as const) {
      const err = await rejectionOf(s.get('packs/p', { range: { offset, length } }));
      expect(err.code).toBe('CONVOY_OBJECT_TAMPERED');
      expect(err.message).toMatch(/packs\/p.*truncated/);
    }
    // a range wholly inside the segments that remain still reads (they authenticate)
    expect((await s.get('packs/p', { range: { offset: SEG, length: 20 } })).equals(body.subarray(SEG, SEG + 20))).toBe(true);
  });

  it('puts in flight seal into buffers of their own; the buffer of a settled put is reused, also after a failure', async () => {
    // A store beneath that holds each put until released and remembers the buffer it was given.
    class Held extends MemoryObjectStore {
      readonly given: ArrayBufferLike[] = [];
      readonly #waiting: (() => void)[] = [];
      failNext = false;
      override async put(key: string, body: PutBody, options?: PutOptions): Promise<void> {
        if (body instanceof Uint8Array) this.given.push(body.buffer);
        await new Promise<void>((resolve) => this.#waiting.push(resolve));
        if (this.failNext) {
          this.failNext = false;
          throw new Error('injected');
        }
        return super.put(key, body, options);
      }
      release(): void {
        this.#waiting.splice(0).forEach((r) => r());
      }
    }
    const inner = new Held();
    const s = new EncryptedStore(inner, newMasterKey(), SEG, '0123456789abcdef');
    const bodies = [0, 1, 2].map((i) => randomBytes(3 * SEG + i * 1000));
    const first = bodies.map((b, i) => s.put(`blocks/${i}`, b));
    await Promise.resolve();
    await Promise.resolve();
    expect(new Set(inner.given).size).toBe(3);
    inner.release();
    await Promise.all(first);
    const again = s.put('blocks/3', randomBytes(SEG));
    await Promise.resolve();
    expect(inner.given.slice(0, 3)).toContain(inner.given[3]);
    inner.failNext = true;
    inner.release();
    expect((await rejectionOf(again)).message).toContain('injected');
    const last = randomBytes(2 * SEG);
    const lastPut = s.put('blocks/4', last);
    await Promise.resolve();
    expect(inner.given.slice(0, 3)).toContain(inner.given[4]);
    inner.release();
    await lastPut;
    for (const [i, b] of bodies.entries()) expect((await s.get(`blocks/${i}`)).equals(b)).toBe(true);
    expect((await s.get('blocks/4')).equals(last)).toBe(true);
  });

  it('the seal buffer pool keeps at most 8 buffers and pools no body over 8 MiB', () => {
    const pool = new SealBuffers();
    expect(pool.take(9 * 1024 * 1024)).toBeUndefined();
    const taken = Array.from({ length: 10 }, (_, i) => pool.take(1000 + i) as Buffer);
    expect(taken.every((b) => b.length >= 1000)).toBe(true);
    taken.forEach((b) => pool.give(b));
    expect(pool.pooled).toBe(8);
    const big = pool.take(1024 * 1024) as Buffer;
    expect(big.length).toBeGreaterThanOrEqual(1024 * 1024);
    expect(taken).not.toContain(big);
  });
});
