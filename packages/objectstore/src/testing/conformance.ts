import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCode } from '@convoy/errors';
import { ObjectExistsError } from '../errors.js';
import type { ObjectStore } from '../types.js';
import { errorConformance } from './conformance-errors.js';

export interface ConformanceOptions {
  /** A fresh, empty store for one test. */
  create: () => Promise<ObjectStore>;
  /** A store of the same driver whose backend fails (bad credentials, vanished directory, …). */
  createBroken?: () => Promise<ObjectStore>;
  /** Run the 64 MiB round trips (default true). */
  large?: boolean;
}

const MiB = 1024 * 1024;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export async function collect(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys.sort();
}

export async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected rejection with ${code}`).toBeDefined();
  expect(errorCode(err)).toBe(code);
}

async function* streamOf(data: Buffer, chunk: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
}

/**
 * The behaviour every ObjectStore driver must have. Call it inside a test file with a factory of
 * fresh stores; it declares its own `describe` block. The fs, s3 (on a real radosgw) and memory
 * drivers all run it unchanged.
 */
export function objectStoreConformance(name: string, options: ConformanceOptions): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    let store: ObjectStore;
    beforeEach(async () => {
      store = await options.create();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('round trips', () => {
      const sizes: [string, number][] = [
        ['empty', 0],
        ['1 byte', 1],
        ['2 MiB', 2 * MiB],
        ['2 MiB + 1', 2 * MiB + 1],
      ];
      if (options.large !== false) sizes.push(['64 MiB', 64 * MiB]);
      for (const [label, size] of sizes) {
        it(`stores and returns ${label} bit-exact`, async () => {
          const data = randomBytes(size);
          await store.put(`rt/${size}.bin`, data);
          const back = await store.get(`rt/${size}.bin`);
          expect(back.length).toBe(size);
          expect(sha(back)).toBe(sha(data));
          expect((await store.stat(`rt/${size}.bin`))?.size).toBe(size);
        });
      }

      it('takes a streamed body (async iterable of chunks)', async () => {
        const size = options.large === false ? 3 * MiB + 17 : 40 * MiB + 17;
        const data = randomBytes(size);
        await store.put('rt/streamed', streamOf(data, 3 * MiB + 1));
        expect(sha(await store.get('rt/streamed'))).toBe(sha(data));
      });

      it('overwrites an object atomically with new content', async () => {
        await store.put('ow/key', Buffer.from('first version'));
        await store.put('ow/key', Buffer.from('v2'));
        expect((await store.get('ow/key')).toString()).toBe('v2');
        expect((await store.stat('ow/key'))?.size).toBe(2);
      });

      it('does not keep a reference to the caller buffer', async () => {
        const data = Buffer.from('abcdef');
        await store.put('ref/key', data);
        data.fill(0x7a);
        expect((await store.get('ref/key')).toString()).toBe('abcdef');
      });

      it('keeps 64 concurrent writes of distinct keys', async () => {
        const bodies = Array.from({ length: 64 }, (_, i) => randomBytes(1000 + i));
        await Promise.all(bodies.map((b, i) => store.put(`conc/${i}`, b)));
        const back = await Promise.all(bodies.map((_, i) => store.get(`conc/${i}`)));
        back.forEach((b, i) => expect(b.equals(bodies[i] as Buffer)).toBe(true));
      });

      it('reports the size and modification time', async () => {
        const before = Date.now();
        await store.put('st/a', Buffer.alloc(1234, 1));
        const info = await store.stat('st/a');
        expect(info?.key).toBe('st/a');
        expect(info?.size).toBe(1234);
        if (info?.lastModified !== undefined) {
          expect(Math.abs(info.lastModified.getTime() - before)).toBeLessThan(10 * 60_000);
        }
      });
    });

    describe('range reads', () => {
      const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
      beforeEach(async () => {
        await store.put('range/obj', data);
      });
      it('reads a range in the middle, at the start and up to the end', async () => {
        expect((await store.get('range/obj', { range: { offset: 100, length: 50 } })).equals(data.subarray(100, 150))).toBe(true);
        expect((await store.get('range/obj', { range: { offset: 0, length: 1 } })).equals(data.subarray(0, 1))).toBe(true);
        expect((await store.get('range/obj', { range: { offset: 990, length: 10 } })).equals(data.subarray(990))).toBe(true);
      });
      it('returns only the bytes that exist for a range past the end', async () => {
        expect((await store.get('range/obj', { range: { offset: 995, length: 100 } })).equals(data.subarray(995))).toBe(true);
        expect((await store.get('range/obj', { range: { offset: 1000, length: 10 } })).length).toBe(0);
        expect((await store.get('range/obj', { range: { offset: 5000, length: 10 } })).length).toBe(0);
      });
      it('returns an empty buffer for a zero-length range', async () => {
        expect((await store.get('range/obj', { range: { offset: 10, length: 0 } })).length).toBe(0);
      });
      it('reads a range of a 2 MiB object', async () => {
        const big = randomBytes(2 * MiB);
        await store.put('range/big', big);
        const r = await store.get('range/big', { range: { offset: MiB - 7, length: 65_536 } });
        expect(r.equals(big.subarray(MiB - 7, MiB - 7 + 65_536))).toBe(true);
      });
      it('throws ObjectNotFoundError for a range of a missing object', async () => {
        await expectCode(store.get('range/missing', { range: { offset: 0, length: 10 } }), 'CONVOY_OBJECT_NOT_FOUND');
      });
    });

    describe('only if absent', () => {
      it('refuses to overwrite and keeps the first content', async () => {
        await store.put('once/key', Buffer.from('first'), { ifAbsent: true });
        const err = await store.put('once/key', Buffer.from('second'), { ifAbsent: true }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ObjectExistsError);
        expect(errorCode(err)).toBe('CONVOY_OBJECT_EXISTS');
        expect((await store.get('once/key')).toString()).toBe('first');
      });

      it('lets exactly one of 8 concurrent writers win, and keeps its bytes', async () => {
        for (let round = 0; round < 3; round++) {
          const key = `race/${round}`;
          const bodies = Array.from({ length: 8 }, (_, i) => Buffer.from(`writer ${i} ${randomBytes(8).toString('hex')}`));
          const results = await Promise.allSettled(bodies.map((b) => store.put(key, b, { ifAbsent: true })));
          const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
          expect(winners).toHaveLength(1);
          for (const r of results) {
            if (r.status === 'rejected') expect(errorCode(r.reason)).toBe('CONVOY_OBJECT_EXISTS');
          }
          expect((await store.get(key)).equals(bodies[winners[0] as number] as Buffer)).toBe(true);
        }
      });

      it('succeeds again after the object was deleted', async () => {
        await store.put('again/key', Buffer.from('a'), { ifAbsent: true });
        await store.delete(['again/key']);
        await store.put('again/key', Buffer.from('b'), { ifAbsent: true });
        expect((await store.get('again/key')).toString()).toBe('b');
      });
    });

    describe('listing', () => {
      it('pages through more than 1,000 keys without losing or repeating one', async () => {
        const keys = Array.from({ length: 1100 }, (_, i) => `many/k${String(i).padStart(5, '0')}`);
        for (let i = 0; i < keys.length; i += 100) {
          await Promise.all(keys.slice(i, i + 100).map((k) => store.put(k, Buffer.from(k))));
        }
        const listed: string[] = [];
        for await (const o of store.list('many/')) {
          listed.push(o.key);
          expect(o.size).toBe(o.key.length);
        }
        expect(listed.length).toBe(1100);
        expect(new Set(listed).size).toBe(1100);
        expect(listed.sort()).toEqual(keys);
      });

      it('filters by directory and by partial-name prefixes', async () => {
        const keys = ['blocks/ab/cd/abcd1', 'blocks/ab/ce/abce2', 'blocks/abc/x', 'blocks/b0/y', 'volumes/v1/volume.json', 'top'];
        await Promise.all(keys.map((k) => store.put(k, Buffer.from('x'))));
        expect(await collect(store, '')).toEqual([...keys].sort());
        expect(await collect(store, 'blocks/')).toEqual(['blocks/ab/cd/abcd1', 'blocks/ab/ce/abce2', 'blocks/abc/x', 'blocks/b0/y']);
        expect(await collect(store, 'blocks/ab')).toEqual(['blocks/ab/cd/abcd1', 'blocks/ab/ce/abce2', 'blocks/abc/x']);
        expect(await collect(store, 'blocks/ab/')).toEqual(['blocks/ab/cd/abcd1', 'blocks/ab/ce/abce2']);
        expect(await collect(store, 'blocks/ab/c')).toEqual(['blocks/ab/cd/abcd1', 'blocks/ab/ce/abce2']);
        expect(await collect(store, 'volumes/v1/volume.json')).toEqual(['volumes/v1/volume.json']);
        expect(await collect(store, 'nothing/')).toEqual([]);
        expect(await collect(store, 't')).toEqual(['top']);
      });

      it('can stop early without reading everything', async () => {
        await Promise.all(Array.from({ length: 30 }, (_, i) => store.put(`early/${i}`, Buffer.from('x'))));
        let n = 0;
        for await (const _ of store.list('early/')) {
          if (++n === 3) break;
        }
        expect(n).toBe(3);
      });
    });

    describe('delete', () => {
      it('deletes a batch of more than 1,000 keys in one call', async () => {
        const keys = Array.from({ length: 1050 }, (_, i) => `del/${i}`);
        for (let i = 0; i < keys.length; i += 150) {
          await Promise.all(keys.slice(i, i + 150).map((k) => store.put(k, Buffer.from('x'))));
        }
        await store.put('keep/me', Buffer.from('y'));
        await store.delete(keys);
        expect(await collect(store, 'del/')).toEqual([]);
        expect(await store.stat('del/0')).toBeUndefined();
        expect((await store.get('keep/me')).toString()).toBe('y');
      });

      it('treats keys that do not exist as deleted', async () => {
        await store.put('d/a', Buffer.from('x'));
        await store.delete(['d/a', 'd/never', 'other/never']);
        expect(await store.stat('d/a')).toBeUndefined();
        await store.delete([]);
      });
    });

    describe('cleanup of stale leftovers', () => {
      it('cleanupStale never removes a committed object (every store of ours has it)', async () => {
        if (store.cleanupStale === undefined) throw new Error('this store has no cleanupStale');
        const keys = ['cl/a', 'cl/deep/er/b', 'cl/.looks.tmp', 'top'];
        await Promise.all(keys.map((k) => store.put(k, Buffer.from(k))));
        // every object was written before this time, so an age test alone would not spare them
        expect(await store.cleanupStale({ olderThan: new Date('2999-01-01T00:00:00Z') })).toEqual({ removed: 0, bytes: 0 });
        expect(await collect(store, '')).toEqual([...keys].sort());
        for (const k of keys) expect((await store.get(k)).toString()).toBe(k);
      });
    });

    errorConformance(() => store, options);
  });
}
