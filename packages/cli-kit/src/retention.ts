// restic's --keep-* flags, as both `convoy-backup forget` and `convoy backup schedule` take them.
import type { Argv } from 'yargs';

export const RETENTION_PERIODS = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
type Period = (typeof RETENTION_PERIODS)[number];

/** The flags as yargs parses them. */
export type RetentionArgs = { 'keep-last'?: number | undefined; 'keep-within'?: string | undefined } & {
  [K in `keep-${Period}`]?: number | undefined;
};

/** The policy the flags give (only the rules given), as @convoy/blockstore's RetentionPolicy and the control API take it. */
export type RetentionFlags = { last?: number; within?: string } & { [K in Period]?: number };

const PERIOD_WORDS: Record<Period, string> = { hourly: 'hours', daily: 'days', weekly: 'ISO weeks', monthly: 'months', yearly: 'years' };

/** Adds --keep-last, --keep-hourly … --keep-yearly and --keep-within. */
export function retentionOptions<T>(y: Argv<T>): Argv<T & RetentionArgs> {
  let o: Argv = (y as Argv).option('keep-last', { type: 'number', requiresArg: true, describe: 'Keep the N newest backups' });
  for (const p of RETENTION_PERIODS) {
    o = o.option(`keep-${p}`, {
      type: 'number',
      requiresArg: true,
      describe: `Keep the newest backup of each of the last N ${PERIOD_WORDS[p]} that have one (-1: all)`,
    });
  }
  o = o.option('keep-within', {
    type: 'string',
    requiresArg: true,
    describe: 'Keep every backup newer than this before the newest backup: 1y2m3d4h (years, months, days, hours)',
  });
  return o as unknown as Argv<T & RetentionArgs>; // the loop's options, typed once here
}

export function retentionFlags(a: RetentionArgs): RetentionFlags {
  const p: RetentionFlags = {};
  if (a['keep-last'] !== undefined) p.last = a['keep-last'];
  for (const k of RETENTION_PERIODS) {
    const v = a[`keep-${k}`];
    if (v !== undefined) p[k] = v;
  }
  if (a['keep-within'] !== undefined) p.within = a['keep-within'];
  return p;
}
