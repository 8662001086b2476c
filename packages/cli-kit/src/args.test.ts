import { describe, expect, it } from 'vitest';
import { parseDuration, parseKeyValues, singleValues } from './args.js';

const opt = { noun: '--opt', syntax: '--opt', unique: 'key' };

describe('parseKeyValues', () => {
  it('turns key=value pairs into a record; the value may hold "=" or be empty', () => {
    expect(parseKeyValues(['env=prod', 'expr=a=b', 'empty=', 'a/b.c-d_e=1'], opt)).toEqual({
      env: 'prod',
      expr: 'a=b',
      empty: '',
      'a/b.c-d_e': '1',
    });
    expect(parseKeyValues([], opt)).toEqual({});
  });
  it.each([['novalue'], ['=x'], ['-k=v'], ['sp ace=v'], [`${'k'.repeat(129)}=v`]])('refuses %s, in the words it is given', (pair) => {
    expect(() => parseKeyValues([pair], opt)).toThrow(
      expect.objectContaining({
        code: 'CONVOY_USAGE',
        message: `invalid --opt ${JSON.stringify(pair)}`,
        hint: expect.stringMatching(/^write --opt key=value; keys are 1-128 characters/),
      }),
    );
  });
  it('refuses a key given twice', () => {
    expect(() => parseKeyValues(['a=1', 'a=2'], { noun: 'label', syntax: 'labels as --label', unique: 'label key' })).toThrow(
      expect.objectContaining({ code: 'CONVOY_USAGE', message: 'label a is given twice', hint: 'give each label key once' }),
    );
  });
});

describe('singleValues', () => {
  const check = singleValues(['label']);
  it('refuses an option given twice unless it is repeatable', () => {
    expect(() => check({ _: [], dest: ['a', 'b'] })).toThrow('--dest is given more than once');
    expect(check({ _: ['x', 'y'], label: ['a=1', 'b=2'], dest: 'a' })).toBe(true);
  });
  it('ignores one-letter aliases and camel-case copies (yargs reports the option itself)', () => {
    expect(check({ _: [], q: [true, true], s3Endpoint: ['a', 'b'] })).toBe(true);
  });
});

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    [' 2h ', 7_200_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each([[''], ['10'], ['-1h'], ['1.5h'], ['1w'], ['h'], ['1h 30m'], ['off'], [`${'9'.repeat(20)}d`]])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
