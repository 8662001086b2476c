import { describe, expect, it } from 'vitest';
import { parseLabels, parseParent, parseSnapshotName } from './args.js';

describe('parseLabels', () => {
  it('turns key=value pairs into a record; the value may hold "=" or be empty', () => {
    expect(parseLabels(['env=prod', 'expr=a=b', 'empty='])).toEqual({ env: 'prod', expr: 'a=b', empty: '' });
    expect(parseLabels([])).toEqual({});
  });
  it.each([['novalue'], ['=x'], ['-k=v'], ['sp ace=v']])('refuses %s', (pair) => {
    expect(() => parseLabels([pair])).toThrow(
      expect.objectContaining({ code: 'CONVOY_USAGE', hint: expect.stringContaining('key=value') }),
    );
  });
  it('refuses a key given twice', () => {
    expect(() => parseLabels(['a=1', 'a=2'])).toThrow(/twice/);
  });
});

describe('parseParent', () => {
  it('maps latest, none and ids', () => {
    expect(parseParent(undefined)).toBeUndefined();
    expect(parseParent('latest')).toBe('latest');
    expect(parseParent('none')).toBeNull();
    expect(parseParent('20261124T170000000Z-3f9a1c')).toBe('20261124T170000000Z-3f9a1c');
  });
  it('refuses anything else', () => {
    expect(() => parseParent('../x')).toThrow(expect.objectContaining({ code: 'CONVOY_INVALID_ARGUMENT' }));
  });
});

describe('parseSnapshotName', () => {
  it('accepts printable names and refuses empty, control characters and overlong ones', () => {
    expect(parseSnapshotName('snap 1 (daily)')).toBe('snap 1 (daily)');
    for (const bad of ['', 'a\nb', 'x'.repeat(256)]) expect(() => parseSnapshotName(bad)).toThrow(/snapshot name/);
  });
});
