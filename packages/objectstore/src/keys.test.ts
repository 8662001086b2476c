import { describe, expect, it } from 'vitest';
import { isValidKey, validateKey, validatePrefix } from './keys.js';

describe('keys', () => {
  it('accepts relative keys of the safe charset', () => {
    for (const k of ['a', 'convoy.json', 'blocks/ab/cd/abcdef.blk', 'volumes/v-1_x/backups/2026.json', 'x'.repeat(255), '...', '..a']) {
      expect(isValidKey(k), k).toBe(true);
    }
  });
  it('rejects traversal, absolute, empty segments, odd characters and overlong keys', () => {
    for (const k of [
      '',
      '/a',
      'a/',
      'a//b',
      '.',
      '..',
      'a/../b',
      'a/.',
      'a\0b',
      'a b',
      'a\\b',
      'é',
      'x'.repeat(256),
      'a/'.repeat(520) + 'a',
    ]) {
      expect(isValidKey(k), JSON.stringify(k)).toBe(false);
    }
    expect(() => validateKey('../etc/passwd')).toThrow(/"\.\." segment/);
  });
  it('allows an empty prefix and a prefix ending in /', () => {
    expect(() => validatePrefix('')).not.toThrow();
    expect(() => validatePrefix('blocks/')).not.toThrow();
    expect(() => validatePrefix('blocks/a')).not.toThrow();
    expect(() => validatePrefix('../')).toThrow();
    expect(() => validatePrefix('/')).toThrow();
  });
});
