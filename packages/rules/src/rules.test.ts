import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_NAME_LENGTH,
  formatSize,
  isValidName,
  nameProblem,
  parseKeyValues,
  parseSize,
  validateSnapshotName,
  validateVolumeName,
  type PairProblem,
} from './index.js';

describe('names', () => {
  it.each(['a', 'v1', 'my_vol.2-x', 'A'.repeat(MAX_NAME_LENGTH), '0'])('accepts %j', (name) => {
    expect(nameProblem(name)).toBeUndefined();
    expect(() => validateVolumeName(name)).not.toThrow();
  });
  it.each([
    ['', 'empty'],
    ['a'.repeat(MAX_NAME_LENGTH + 1), 'more than 128'],
    ['.hidden', 'start with a letter or digit'],
    ['-x', 'start with a letter or digit'],
    ['a/b', 'other than'],
    ['a..b', '".."'],
    ['a\0b', 'other than'],
    ['vol ume', 'other than'],
    ['é', 'start with'],
    [42, 'must be a string'],
  ])('refuses %j: %s', (name, why) => {
    expect(nameProblem(name)).toContain(why);
    expect(() => validateVolumeName(name)).toThrow(
      expect.objectContaining({ code: 'CONVOY_VOLUME_NAME_INVALID', hint: expect.stringContaining('1-128 characters') }),
    );
    expect(() => validateSnapshotName(name)).toThrow(expect.objectContaining({ code: 'CONVOY_SNAPSHOT_NAME_INVALID' }));
  });
  it('a valid name is never a path: no separator, no dot segment, no traversal', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        if (!isValidName(s)) return;
        expect(s).not.toMatch(/[/\\\0]/);
        expect(s.includes('..')).toBe(false);
        expect(s === '.' || s.length > MAX_NAME_LENGTH).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('sizes', () => {
  it.each([
    ['1073741824', 2 ** 30],
    ['100G', 100 * 2 ** 30],
    ['100g', 100 * 2 ** 30],
    ['100Gi', 100 * 2 ** 30],
    ['100GiB', 100 * 2 ** 30],
    ['100GB', 100 * 2 ** 30],
    ['512M', 512 * 2 ** 20],
    ['1.5T', 1.5 * 2 ** 40],
    ['64K', 65536],
    [' 2 m ', 2 * 2 ** 20],
    [4096, 4096],
  ])('reads %j as %i bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });
  it.each(['', 'G', '10X', '-1G', '0', '1e3', '10 GiBs', '5i', 'ten', '99999999999P'])('refuses %j with CONVOY_SIZE_INVALID', (text) => {
    expect(() => parseSize(text)).toThrow(expect.objectContaining({ code: 'CONVOY_SIZE_INVALID' }));
  });
  it('formats exact binary units and falls back to bytes', () => {
    expect([formatSize(2 ** 30), formatSize(3 * 2 ** 20), formatSize(1000), formatSize(1.5 * 2 ** 30)]).toEqual([
      '1 GiB',
      '3 MiB',
      '1000 B',
      '1.50 GiB',
    ]);
  });
  it('reads back what it formats, for whole numbers of a unit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1023 }), fc.constantFrom(2 ** 10, 2 ** 20, 2 ** 30, 2 ** 40), (n, unit) => {
        expect(parseSize(formatSize(n * unit).replace(' ', ''))).toBe(n * unit);
      }),
    );
  });
});

describe('key=value options', () => {
  const fail = (p: PairProblem): never => {
    throw new Error(`${p.kind}:${p.key}`);
  };
  it('splits at the first "=", keeps empty values', () => {
    expect(parseKeyValues(['a=1', 'b.c/d=x=y', 'e='], fail)).toEqual({ a: '1', 'b.c/d': 'x=y', e: '' });
  });
  it.each([
    [['noequals'], 'malformed:noequals'],
    [['=v'], 'malformed:'],
    [['-k=v'], 'malformed:-k'],
    [['a=1', 'a=2'], 'duplicate:a'],
  ])('refuses %j', (pairs, why) => {
    expect(() => parseKeyValues(pairs, fail)).toThrow(why);
  });
});
