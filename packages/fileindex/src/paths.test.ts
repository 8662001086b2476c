import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparePaths, isWithin, parentPath, unsafePathReason } from './paths.js';

describe('index paths', () => {
  it.each([
    ['/etc/passwd', 'absolute'],
    ['a/../../etc', "'..'"],
    ['..', "'..'"],
    ['a/./b', "'.'"],
    ['a//b', 'empty component'],
    ['a/', 'empty component'],
    ['', 'empty'],
    ['a\0b', 'NUL'],
    ['\ud800x', 'Unicode'],
    [`${'x'.repeat(256)}`, 'longer than 255'],
  ])('refuses %j (%s)', (path, words) => {
    expect(unsafePathReason(path)).toContain(words);
  });

  it.each(['a', 'a/b c/d.txt', '.hidden/..x/x..', 'ü/日本/😀'])('accepts %j', (path) => {
    expect(unsafePathReason(path)).toBeUndefined();
  });

  it('orders a directory before its contents and its contents before later siblings', () => {
    const sorted = ['a.txt', 'a/x', 'a', 'a-b', 'b', 'a/x/y', 'A'].sort(comparePaths);
    expect(sorted).toEqual(['A', 'a', 'a/x', 'a/x/y', 'a-b', 'a.txt', 'b']);
  });

  it('tree order is component-wise UTF-8 byte order', () => {
    const name = fc.string({ unit: fc.constantFrom('a', 'b', '-', '.', 'é', '\uffff', '😀', 'Z'), minLength: 1, maxLength: 3 });
    const path = fc.array(name, { minLength: 1, maxLength: 4 }).map((c) => c.join('/'));
    fc.assert(
      fc.property(path, path, (a, b) => {
        const ca = a.split('/').map((s) => Buffer.from(s));
        const cb = b.split('/').map((s) => Buffer.from(s));
        let expected = 0;
        for (let i = 0; i < Math.min(ca.length, cb.length) && expected === 0; i++) expected = Buffer.compare(ca[i]!, cb[i]!);
        if (expected === 0) expected = ca.length - cb.length;
        expect(Math.sign(comparePaths(a, b))).toBe(Math.sign(expected));
      }),
      { numRuns: 500 },
    );
  });

  it('parentPath and isWithin', () => {
    expect(parentPath('a/b/c')).toBe('a/b');
    expect(parentPath('a')).toBe('');
    expect(isWithin('a/b', 'a')).toBe(true);
    expect(isWithin('ab', 'a')).toBe(false);
    expect(isWithin('a', 'a')).toBe(true);
    expect(isWithin('x', '')).toBe(true);
  });
});
