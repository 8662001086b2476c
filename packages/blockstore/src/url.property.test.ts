// Property test: a hostile backup URL (traversal or encoded ".." in the path, the backup id or
// the volume name, NUL, backslashes, unicode, overlong) is refused with a CONVOY_* code or parsed
// into a store URL, a volume name and a backup id that are each valid on their own.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isConvoyError } from '@convoy/errors';
import { validateVolumeName } from '@convoy/rules';
import { validateBackupId } from './format/names.js';
import { parseAnyBackupUrl, parseBackupUrl } from './url.js';

const PIECES = [
  '..',
  '.',
  '%2e%2e',
  '%252e%252e',
  '%2f',
  '/',
  '\\',
  '%00',
  '\u0000',
  '%',
  '%E0%A4%A',
  'é',
  'a',
  'v1',
  '20260101T000000000Z-abcdef',
  'x'.repeat(300),
  '&',
  '=',
  '?',
  '#',
];
const part = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 8 }).map((xs) => xs.join('')),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const url = fc
  .tuple(fc.constantFrom('vfs:///tmp/store', 'vfs:///tmp/store/%2e%2e', 's3://bucket/prefix', 's3://bucket'), part, part, part)
  .map(([store, p, id, vol]) => `${store}${p}?backup=${id}&volume=${vol}`);

describe('parseBackupUrl under hostile input', () => {
  it('refuses with a CONVOY_* code, or yields a valid volume and backup id', () => {
    fc.assert(
      fc.property(url, (u) => {
        let ref: ReturnType<typeof parseBackupUrl>;
        try {
          ref = parseBackupUrl(u);
        } catch (err) {
          if (!isConvoyError(err)) throw err; // a TypeError or URIError is a bug
          expect(err.code).toMatch(/^CONVOY_[A-Z_]+$/);
          return;
        }
        validateVolumeName(ref.volume);
        validateBackupId(ref.id);
        expect(ref.storeUrl).not.toContain('?');
      }),
      { numRuns: 3000 },
    );
  });
});

describe('Rancher Convoy v0.5.2 backup URLs', () => {
  const printed = 'vfs:///tmp/cg/store?backup=backup-f12db86493774ab7\\u0026volume=vol1';

  it('parseAnyBackupUrl reads them as printed (\\u0026) and with &', () => {
    for (const u of [printed, printed.replace('\\u0026', '&')]) {
      expect(parseAnyBackupUrl(u)).toEqual({
        format: 'rancher-convoy-v0.5.2',
        storeUrl: 'vfs:///tmp/cg/store',
        volume: 'vol1',
        name: 'backup-f12db86493774ab7',
      });
    }
    expect(parseAnyBackupUrl('vfs:///s?backup=20260101T000000000Z-abcdef\\u0026volume=v1')).toMatchObject({
      format: 'convoy',
      id: '20260101T000000000Z-abcdef',
    });
  });

  it('parseBackupUrl (our backups only) refuses them with CONVOY_RANCHER_BACKUP_READ_ONLY', () => {
    expect(() => parseBackupUrl(printed)).toThrow(expect.objectContaining({ code: 'CONVOY_RANCHER_BACKUP_READ_ONLY' }));
  });
});
