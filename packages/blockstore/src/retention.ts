// Retention policies (`convoy-backup forget`), with restic's semantics: which backups of a volume a
// policy keeps, and why. A pure function of the backups' times: no clock, no store.
//
// Backups are taken newest first. `last N` keeps the N newest. Each bucket rule (hourly, daily,
// weekly, monthly, yearly) keeps the newest backup of each of the N most recent periods that have
// one: a backup is kept when its period differs from the period of the last backup that rule kept.
// `within D` keeps every backup newer than D before the newest backup (not before now: a volume
// whose backups stopped keeps its last ones). A backup is kept if any rule keeps it. Periods are
// UTC calendar periods (weeks are ISO 8601 weeks, starting on Monday). A count of -1 is unlimited.
import { invalidInput } from './errors.js';

export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** `1y2m3d4h`: years, months, days, hours before the newest backup. */
  within?: string;
}

export interface RetentionItem {
  id: string;
  /** When the backup was taken. */
  time: Date;
}

export interface RetentionDecision<T extends RetentionItem = RetentionItem> {
  /** Newest first, each with why it is kept. */
  keep: { item: T; reasons: string[] }[];
  /** Newest first. */
  remove: T[];
}

type Bucket = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';
const BUCKETS: readonly Bucket[] = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'];

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** The ISO 8601 week of a UTC time, as `YYYY-Www` (the ISO week-numbering year). */
function isoWeek(t: Date): string {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  const day = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
  d.setUTCDate(d.getUTCDate() + 4 - day); // the Thursday of this week decides its year
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - start) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${pad(week)}`;
}

function period(bucket: Bucket, t: Date): string {
  const y = t.getUTCFullYear();
  switch (bucket) {
    case 'yearly':
      return `${y}`;
    case 'monthly':
      return `${y}-${pad(t.getUTCMonth() + 1)}`;
    case 'weekly':
      return isoWeek(t);
    case 'daily':
      return `${y}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
    case 'hourly':
      return `${y}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}T${pad(t.getUTCHours())}`;
  }
}

const WITHIN = /^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?(?:(\d+)h)?$/;

/** The earliest time `within` keeps, counted back from `newest` in calendar units (as restic). */
export function withinStart(within: string, newest: Date): Date {
  const m = WITHIN.exec(within.trim());
  if (m === null || within.trim() === '') {
    throw invalidInput(`invalid --keep-within "${within}"`, 'give years, months, days and hours, e.g. 7d, 2m, 1y6m, 36h');
  }
  const [y, mo, d, h] = [m[1], m[2], m[3], m[4]].map((v) => Number(v ?? 0)) as [number, number, number, number];
  const t = new Date(newest.getTime());
  t.setUTCFullYear(t.getUTCFullYear() - y, t.getUTCMonth() - mo, t.getUTCDate() - d);
  t.setUTCHours(t.getUTCHours() - h);
  return t;
}

/** Refuses a policy that keeps nothing (it would remove every backup) or has a bad count. */
export function checkPolicy(p: RetentionPolicy): void {
  const counts = [p.last, ...BUCKETS.map((b) => p[b])];
  for (const c of counts) {
    if (c !== undefined && (!Number.isSafeInteger(c) || c < -1)) {
      throw invalidInput(`invalid keep count ${String(c)}`, 'a count is a whole number of backups (0 or more), or -1 for all');
    }
  }
  if (counts.every((c) => c === undefined || c === 0) && p.within === undefined) {
    throw invalidInput(
      'no retention policy given: forget would remove every backup',
      'give at least one of --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly, --keep-within',
    );
  }
  if (p.within !== undefined) withinStart(p.within, new Date(0));
}

/** What `policy` keeps of `items` (any order), and what it removes. */
export function applyRetention<T extends RetentionItem>(items: readonly T[], policy: RetentionPolicy): RetentionDecision<T> {
  checkPolicy(policy);
  const sorted = [...items].sort((a, b) => b.time.getTime() - a.time.getTime() || b.id.localeCompare(a.id));
  const newest = sorted[0];
  const from = policy.within === undefined || newest === undefined ? undefined : withinStart(policy.within, newest.time);
  const left = new Map<Bucket, number>(BUCKETS.map((b) => [b, policy[b] ?? 0]));
  const lastKept = new Map<Bucket, string>();
  const out: RetentionDecision<T> = { keep: [], remove: [] };
  sorted.forEach((item, nr) => {
    const reasons: string[] = [];
    if (policy.last !== undefined && (policy.last === -1 || nr < policy.last)) reasons.push('last');
    for (const b of BUCKETS) {
      const n = left.get(b) ?? 0;
      if (n === 0) continue;
      const p = period(b, item.time);
      if (p === lastKept.get(b)) continue;
      lastKept.set(b, p);
      if (n > 0) left.set(b, n - 1);
      reasons.push(`${b} ${p}`);
    }
    if (from !== undefined && item.time.getTime() > from.getTime()) reasons.push(`within ${policy.within ?? ''}`);
    if (reasons.length > 0) out.keep.push({ item, reasons });
    else out.remove.push(item);
  });
  return out;
}
