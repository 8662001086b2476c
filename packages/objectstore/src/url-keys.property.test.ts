// Property tests: hostile store URLs and object keys (traversal, encoded "..", NUL, backslashes,
// unicode, overlong) are refused with a CONVOY_* code or parsed into something that cannot leave
// the store's root. Seeded by fast-check (a failure prints its seed and the shrunk input).
import fc from 'fast-check';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isConvoyError } from '@convoy/errors';
import { FsObjectStore } from './drivers/fs-store.js';
import { validateKey } from './keys.js';
import { parseStoreUrl } from './url.js';

const PIECES = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2E',
  '%252e%252e',
  '.%2e',
  '%2e.',
  '%2f',
  '%2F',
  '%5c',
  '\\',
  '/',
  '//',
  '%00',
  '\u0000',
  '%',
  '%E0%A4%A',
  'é',
  '%C3%A9',
  '\ud800',
  'a',
  'store',
  'x'.repeat(300),
  '?',
  '#',
  '@',
  ':',
  ' ',
];
const hostile = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((xs) => xs.join('')),
  fc.array(fc.constantFrom(...PIECES), { maxLength: 8 }).map((xs) => xs.join('/')),
  fc.string({ unit: 'binary', maxLength: 60 }),
);
const url = fc
  .tuple(
    fc.constantFrom('vfs://', 'vfs:///', 'VFS:///', 's3://', 's3://bucket/', 's3://AK:SK@bucket/', 'vfs:///tmp/store/', ''),
    hostile,
    fc.constantFrom('', '?backup=a&volume=b', '?backup=%2e%2e&volume=..'),
  )
  .map(([a, b, c]) => `${a}${b}${c}`);

function refusedWithCode(f: () => unknown, code: string): boolean {
  try {
    f();
    return false;
  } catch (err) {
    if (!isConvoyError(err)) throw err; // anything else (TypeError, URIError) is a bug
    expect(err.code).toBe(code);
    return true;
  }
}

describe('store URLs and object keys under hostile input', () => {
  it('parseStoreUrl refuses with CONVOY_STORE_URL_INVALID or yields a normalised absolute vfs path / a valid s3 prefix', () => {
    fc.assert(
      fc.property(url, (u) => {
        let parsed: ReturnType<typeof parseStoreUrl>;
        try {
          parsed = parseStoreUrl(u);
        } catch (err) {
          if (!isConvoyError(err)) throw err;
          expect(err.code).toBe('CONVOY_STORE_URL_INVALID');
          return;
        }
        const loc = parsed.location;
        if (loc.kind === 'vfs') {
          expect(path.posix.isAbsolute(loc.path)).toBe(true);
          expect(path.posix.normalize(loc.path)).toBe(loc.path);
          expect(loc.path).not.toContain('\u0000');
          expect(loc.path.split('/')).not.toContain('..');
          expect(loc.path).not.toBe('/');
        } else if (loc.prefix !== '') validateKey(loc.prefix);
      }),
      { numRuns: 3000 },
    );
  });

  it('a key validateKey accepts stays under the root it is joined to; any other is CONVOY_OBJECT_KEY_INVALID', () => {
    const root = '/srv/store';
    fc.assert(
      fc.property(hostile, (key) => {
        if (refusedWithCode(() => validateKey(key), 'CONVOY_OBJECT_KEY_INVALID')) return;
        const file = path.resolve(root, ...key.split('/'));
        expect(file.startsWith(`${root}/`)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('FsObjectStore writes a hostile key under its root or refuses it: nothing appears beside the root', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-keys-'));
    try {
      const root = path.join(dir, 'root');
      const store = await new FsObjectStore(root).open();
      await fc.assert(
        fc.asyncProperty(hostile, async (key) => {
          try {
            await store.put(key, Buffer.from('x'));
          } catch (err) {
            // refused, or failed as a store fails (e.g. "a/b" where the object "a" is a file)
            if (!isConvoyError(err)) throw err;
            expect(err.code).toMatch(/^CONVOY_(OBJECT_KEY_INVALID|OBJECTSTORE_FAILED)$/);
          }
        }),
        { numRuns: 400 },
      );
      await store.close();
      expect(await fs.readdir(dir)).toEqual(['root']);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
