// Retention policies against hand-made tables (restic's semantics; see retention.ts).
import { describe, expect, it } from 'vitest';
import { applyRetention, withinStart, type RetentionPolicy } from './retention.js';

const at = (id: string, iso: string): { id: string; time: Date } => ({ id, time: new Date(iso) });
// 2026-01-01 is a Thursday: ISO week 2026-W01 runs from Monday 2025-12-29 to Sunday 2026-01-04.
const BACKUPS = [
  at('A', '2026-01-01T10:00:00Z'),
  at('B', '2026-01-01T10:30:00Z'),
  at('C', '2026-01-01T11:15:00Z'),
  at('D', '2026-01-02T09:00:00Z'),
  at('E', '2026-01-03T23:59:00Z'),
  at('F', '2026-01-05T00:01:00Z'),
  at('G', '2026-02-10T12:00:00Z'),
  at('H', '2027-03-01T00:00:00Z'),
];

function decide(policy: RetentionPolicy, items = BACKUPS): { keep: Record<string, string[]>; remove: string[] } {
  const d = applyRetention([...items].reverse(), policy);
  return { keep: Object.fromEntries(d.keep.map((k) => [k.item.id, k.reasons])), remove: d.remove.map((r) => r.id) };
}

describe('retention policies (restic semantics)', () => {
  it.each<[string, RetentionPolicy, Record<string, string[]>, string[]]>([
    ['last 2', { last: 2 }, { H: ['last'], G: ['last'] }, ['F', 'E', 'D', 'C', 'B', 'A']],
    ['daily 3', { daily: 3 }, { H: ['daily 2027-03-01'], G: ['daily 2026-02-10'], F: ['daily 2026-01-05'] }, ['E', 'D', 'C', 'B', 'A']],
    [
      'hourly 4',
      { hourly: 4 },
      { H: ['hourly 2027-03-01T00'], G: ['hourly 2026-02-10T12'], F: ['hourly 2026-01-05T00'], E: ['hourly 2026-01-03T23'] },
      ['D', 'C', 'B', 'A'],
    ],
    [
      'weekly 4: Monday 5 January starts 2026-W02, Saturday the 3rd is in 2026-W01',
      { weekly: 4 },
      { H: ['weekly 2027-W09'], G: ['weekly 2026-W07'], F: ['weekly 2026-W02'], E: ['weekly 2026-W01'] },
      ['D', 'C', 'B', 'A'],
    ],
    [
      'monthly 2 and yearly 2',
      { monthly: 2, yearly: 2 },
      { H: ['monthly 2027-03', 'yearly 2027'], G: ['monthly 2026-02', 'yearly 2026'] },
      ['F', 'E', 'D', 'C', 'B', 'A'],
    ],
    ['within 2d of the newest backup (not of now)', { within: '2d' }, { H: ['within 2d'] }, ['G', 'F', 'E', 'D', 'C', 'B', 'A']],
    ['within 1y1m', { within: '1y1m' }, { H: ['within 1y1m'], G: ['within 1y1m'] }, ['F', 'E', 'D', 'C', 'B', 'A']],
    [
      'daily -1: the newest of every day',
      { daily: -1 },
      {
        H: ['daily 2027-03-01'],
        G: ['daily 2026-02-10'],
        F: ['daily 2026-01-05'],
        E: ['daily 2026-01-03'],
        D: ['daily 2026-01-02'],
        C: ['daily 2026-01-01'],
      },
      ['B', 'A'],
    ],
    [
      'last 1, daily 2, monthly 3: each rule counts on its own',
      { last: 1, daily: 2, monthly: 3 },
      { H: ['last', 'daily 2027-03-01', 'monthly 2027-03'], G: ['daily 2026-02-10', 'monthly 2026-02'], F: ['monthly 2026-01'] },
      ['E', 'D', 'C', 'B', 'A'],
    ],
    ['more kept than there are backups', { last: 20 }, Object.fromEntries(BACKUPS.map((b) => [b.id, ['last']])), []],
  ])('%s', (_name, policy, keep, remove) => {
    expect(decide(policy)).toEqual({ keep, remove });
  });

  it('keep-within is strict at its limit, and counts calendar months and years', () => {
    expect(withinStart('1y1m', new Date('2027-03-01T00:00:00Z')).toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(withinStart('36h', new Date('2027-03-01T00:00:00Z')).toISOString()).toBe('2027-02-27T12:00:00.000Z');
    const edge = [at('new', '2027-03-01T00:00:00Z'), at('edge', '2027-02-27T00:00:00Z'), at('inside', '2027-02-27T00:00:01Z')];
    expect(decide({ within: '2d' }, edge)).toEqual({ keep: { new: ['within 2d'], inside: ['within 2d'] }, remove: ['edge'] });
  });

  it('weeks cross years as ISO 8601 says: Thursday 31 December and Friday 1 January are both 2026-W53', () => {
    const items = [at('thu', '2026-12-31T12:00:00Z'), at('fri', '2027-01-01T12:00:00Z'), at('older', '2026-12-20T12:00:00Z')];
    expect(decide({ weekly: 2 }, items)).toEqual({ keep: { fri: ['weekly 2026-W53'], older: ['weekly 2026-W51'] }, remove: ['thu'] });
  });

  it('refuses a policy that keeps nothing, bad counts and bad durations', () => {
    expect(() => applyRetention(BACKUPS, {})).toThrow(/no retention policy given/);
    expect(() => applyRetention(BACKUPS, { last: 0, daily: 0 })).toThrow(/no retention policy given/);
    expect(() => applyRetention(BACKUPS, { daily: 1.5 })).toThrow(/invalid keep count/);
    expect(() => applyRetention(BACKUPS, { weekly: -2 })).toThrow(/invalid keep count/);
    expect(() => applyRetention(BACKUPS, { within: '7 days' })).toThrow(/invalid --keep-within "7 days"/);
    expect(() => applyRetention(BACKUPS, { within: '' })).toThrow(/invalid --keep-within/);
  });

  it('an empty list keeps and removes nothing', () => {
    expect(applyRetention([], { last: 3 })).toEqual({ keep: [], remove: [] });
  });
});
