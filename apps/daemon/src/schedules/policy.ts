// A scheduled backup policy (`convoy backup schedule VOLUME …`): when it runs (every DURATION, or a
// cron expression in UTC), where it backs up to, which backups retention keeps, and how its last
// run went. Kept as <root>/schedules/<volume>.json (store.ts).
import { checkPolicy, type RetentionPolicy } from '@convoy/blockstore';
import { parseDuration } from '@convoy/cli-kit';
import { ConvoyError } from '@convoy/errors';
import { Cron } from 'croner';
import { z } from 'zod';

export const retentionSchema = z
  .object({
    last: z.number().int().min(-1).optional(),
    hourly: z.number().int().min(-1).optional(),
    daily: z.number().int().min(-1).optional(),
    weekly: z.number().int().min(-1).optional(),
    monthly: z.number().int().min(-1).optional(),
    yearly: z.number().int().min(-1).optional(),
    within: z.string().optional(),
  })
  .strict() satisfies z.ZodType<RetentionPolicy>;

const runSchema = z
  .object({
    at: z.string(),
    outcome: z.enum(['ok', 'failed']),
    url: z.string().optional(),
    removed: z.number().optional(),
    error: z.object({ code: z.string(), message: z.string() }).strict().optional(),
  })
  .strict();

export const schedulePolicySchema = z
  .object({
    version: z.literal(1),
    volume: z.string(),
    dest: z.string(),
    every: z.string().optional(),
    cron: z.string().optional(),
    keep: retentionSchema.optional(),
    createdAt: z.string(),
    /** When it runs next (ms since the epoch): a time in the past at start is a missed run, run once at once. */
    nextRun: z.number(),
    lastRun: runSchema.optional(),
  })
  .strict();

export type SchedulePolicy = z.infer<typeof schedulePolicySchema>;
export type ScheduleRun = z.infer<typeof runSchema>;

const invalid = (message: string, hint: string): ConvoyError => new ConvoyError('CONVOY_INVALID_ARGUMENT', message, { hint });

/** Checks `every` / `cron` / `keep` of a new policy (exactly one of every and cron). */
export function checkSchedule(p: { every?: string | undefined; cron?: string | undefined; keep?: RetentionPolicy | undefined }): void {
  if ((p.every === undefined) === (p.cron === undefined))
    throw invalid('give exactly one of --every and --cron', 'e.g. --every 1h, or --cron "0 3 * * *" (UTC)');
  if (p.every !== undefined) {
    const ms = parseDuration(p.every);
    if (ms === undefined || ms < 60_000) throw invalid(`invalid --every "${p.every}"`, 'a duration of at least a minute: 15m, 1h, 1d');
  }
  if (p.cron !== undefined) {
    try {
      new Cron(p.cron, { timezone: 'UTC', paused: true });
    } catch (err) {
      throw invalid(
        `invalid --cron "${p.cron}": ${(err as Error).message}`,
        'five fields in UTC: minute hour day month weekday, e.g. "0 3 * * *"',
      );
    }
  }
  if (p.keep !== undefined && Object.keys(p.keep).length > 0) checkPolicy(p.keep);
}

/** The first run time after `from` (ms since the epoch). */
export function nextRunAfter(p: Pick<SchedulePolicy, 'every' | 'cron'>, from: number): number {
  if (p.every !== undefined) return from + (parseDuration(p.every) ?? 3_600_000);
  const next = new Cron(p.cron ?? '0 * * * *', { timezone: 'UTC', paused: true }).nextRun(new Date(from));
  return next === null ? Number.MAX_SAFE_INTEGER : next.getTime();
}
