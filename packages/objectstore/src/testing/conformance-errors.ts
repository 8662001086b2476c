// The part of the ObjectStore conformance suite about errors: absent versus failed (a failing
// backend is never "not found"), cancelled writes, and key validation on every operation.
import { describe, expect, it } from 'vitest';
import { errorCode, isConvoyError } from '@convoy/errors';
import { ObjectNotFoundError } from '../errors.js';
import type { ObjectStore } from '../types.js';
import { collect, expectCode, type ConformanceOptions } from './conformance.js';

/** Declared inside objectStoreConformance's describe block; `store()` is that block's fresh store. */
export function errorConformance(store: () => ObjectStore, options: ConformanceOptions): void {
  describe('absent versus failed', () => {
    it('get of a missing key throws ObjectNotFoundError naming the key; stat answers undefined', async () => {
      const err = await store()
        .get('missing/key')
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ObjectNotFoundError);
      expect((err as Error).message).toContain('missing/key');
      expect(await store().stat('missing/key')).toBeUndefined();
    });

    it('a prefix of stored keys is not itself an object', async () => {
      await store().put('dir/leaf', Buffer.from('x'));
      expect(await store().stat('dir')).toBeUndefined();
      await expectCode(store().get('dir'), 'CONVOY_OBJECT_NOT_FOUND');
    });

    if (options.createBroken !== undefined) {
      const createBroken = options.createBroken;
      it('a failing backend is an error, never "not found" or success', async () => {
        const broken = await createBroken();
        try {
          const ops = [
            () => broken.get('x/y'),
            () => broken.stat('x/y'),
            () => broken.put('x/y', Buffer.from('z')),
            () => collect(broken, 'x/'),
          ];
          for (const op of ops) {
            const err = await op().then(
              () => undefined,
              (e: unknown) => e,
            );
            expect(err, 'operation on a broken store must fail').toBeDefined();
            expect(isConvoyError(err)).toBe(true);
            expect(errorCode(err)).not.toBe('CONVOY_OBJECT_NOT_FOUND');
            expect((err as Error).message).toMatch(/x\/y|x\//);
          }
        } finally {
          await broken.close();
        }
      });
    }

    it('a cancelled write throws and stores nothing', async () => {
      const ac = new AbortController();
      ac.abort();
      await expectCode(store().put('cancel/key', Buffer.from('x'), { signal: ac.signal }), 'CONVOY_ABORTED');
      expect(await store().stat('cancel/key')).toBeUndefined();
    });
  });

  describe('key validation', () => {
    const bad = [
      '',
      '/abs',
      '../up',
      'a/../../etc/passwd',
      'a//b',
      'a/',
      './a',
      'a/./b',
      'nul\0byte',
      'sp ace',
      'ünï',
      'back\\slash',
      'a?b',
      'x'.repeat(256),
      `${'a/'.repeat(600)}a`,
    ];
    it.each(bad.map((k) => [JSON.stringify(k.slice(0, 40)), k]))('rejects %s on every operation', async (_label, key) => {
      await expectCode(store().get(key), 'CONVOY_OBJECT_KEY_INVALID');
      await expectCode(store().put(key, Buffer.from('x')), 'CONVOY_OBJECT_KEY_INVALID');
      await expectCode(store().stat(key), 'CONVOY_OBJECT_KEY_INVALID');
      await expectCode(store().delete([key]), 'CONVOY_OBJECT_KEY_INVALID');
    });
    it('rejects a traversing list prefix', async () => {
      await expectCode(collect(store(), '../'), 'CONVOY_OBJECT_KEY_INVALID');
    });
    it('accepts the full safe charset', async () => {
      const key = 'Az09._-/x.y_z-1/' + 'k'.repeat(200);
      await store().put(key, Buffer.from('ok'));
      expect((await store().get(key)).toString()).toBe('ok');
      expect(await collect(store(), 'Az09._-/')).toEqual([key]);
    });
  });
}
