// `convoy backup schedule | schedules | unschedule`: backups the daemon takes by itself (every
// DURATION or at cron times, UTC), with a retention policy applied after each (restic's rules).
import type { Argv } from 'yargs';
import { examples, EXIT, formatTable, formatTime, retentionFlags, retentionOptions, usageError, type RetentionArgs } from '@convoy/cli-kit';
import type { Schedule, SetScheduleRequest } from '@convoy/control-api';
import { checkName, checkUrl } from '../args.js';
import type { CommandContext, Select } from '../context.js';

export interface ScheduleArgs extends RetentionArgs {
  volume: string;
  dest: string;
  every?: string | undefined;
  cron?: string | undefined;
}

export function scheduleSubcommands(y: Argv, select: Select): Argv {
  let b = y.command(
    'schedule <volume>',
    'Back a volume up on a schedule: a snapshot, its backup, retention, the snapshot deleted',
    (c) =>
      retentionOptions(
        c
          .positional('volume', { type: 'string', demandOption: true, describe: 'Volume name' })
          .option('dest', {
            type: 'string',
            demandOption: true,
            requiresArg: true,
            describe: 'Store URL: vfs:///abs/path or s3://bucket@region/prefix',
          })
          .option('every', { type: 'string', requiresArg: true, describe: 'Run every DURATION: 15m, 1h, 1d (at least a minute)' })
          .option('cron', {
            type: 'string',
            requiresArg: true,
            describe: 'Run at cron times, in UTC: "0 3 * * *" (minute hour day month weekday)',
          }),
      ).epilogue(
        [
          'The daemon keeps the schedule under its --root (it survives restarts; a run missed while it was down runs once at start).',
          'Runs of one volume never overlap. Retention follows convoy-backup forget; `convoy backup schedules` shows the last run.',
          '',
          examples([
            [
              'convoy backup schedule db --dest s3://bk@us-east-1/db --every 1h --keep-hourly 24 --keep-daily 7',
              'Hourly, a day of hourlies and a week of dailies',
            ],
            ["convoy backup schedule web --dest vfs:///mnt/bk --cron '0 3 * * *' --keep-daily 14", 'Every night at 03:00 UTC'],
          ]),
        ].join('\n'),
      ),
    (args) => select((ctx) => runSchedule(args, ctx), args),
  );
  b = b.command(
    'schedules',
    'List the scheduled backups: volume, when, destination, next run, last run and its error',
    (c) => c.epilogue(examples([['convoy backup schedules --json', 'As a JSON array']])),
    (args) => select((ctx) => runSchedules(ctx), args),
  );
  return b.command(
    'unschedule <volume>',
    "Stop a volume's scheduled backups (its backups stay)",
    (c) => c.positional('volume', { type: 'string', demandOption: true, describe: 'Volume name' }),
    (args) => select((ctx) => runUnschedule(args, ctx), args),
  );
}

export async function runSchedule(args: ScheduleArgs, ctx: CommandContext): Promise<number> {
  const volume = checkName('volume', args.volume);
  const dest = checkUrl('destination', args.dest, { backup: false });
  if ((args.every === undefined) === (args.cron === undefined))
    throw usageError('give exactly one of --every and --cron', 'e.g. --every 1h, or --cron "0 3 * * *"');
  const keep: NonNullable<SetScheduleRequest['keep']> = retentionFlags(args);
  const s = await ctx.client().setSchedule(
    {
      volume,
      dest,
      ...(args.every === undefined ? {} : { every: args.every }),
      ...(args.cron === undefined ? {} : { cron: args.cron }),
      ...(Object.keys(keep).length > 0 ? { keep } : {}),
    },
    { signal: ctx.signal },
  );
  ctx.out.result(s, () => [`${s.volume}: ${when(s)} to ${s.dest}; next run ${formatTime(new Date(s.nextRun).toISOString())}`]);
  return EXIT.ok;
}

const when = (s: Schedule): string => (s.every !== undefined ? `every ${s.every}` : `cron ${s.cron ?? '?'} UTC`);

export async function runSchedules(ctx: CommandContext): Promise<number> {
  const list = await ctx.client().listSchedules({ signal: ctx.signal });
  ctx.out.result(list, () =>
    list.length === 0
      ? ['no scheduled backups']
      : formatTable(
          ['VOLUME', 'WHEN', 'DEST', 'NEXT RUN', 'LAST RUN', 'LAST ERROR'],
          list.map((s) => [
            s.volume,
            when(s),
            s.dest,
            s.running === true ? 'running' : formatTime(new Date(s.nextRun).toISOString()),
            s.lastRun === undefined ? '-' : `${formatTime(s.lastRun.at)} ${s.lastRun.outcome}`,
            s.lastRun?.error === undefined ? '-' : `${s.lastRun.error.code}: ${s.lastRun.error.message}`,
          ]),
        ),
  );
  return EXIT.ok;
}

export async function runUnschedule(args: { volume: string }, ctx: CommandContext): Promise<number> {
  const volume = checkName('volume', args.volume);
  await ctx.client().removeSchedule(volume, { signal: ctx.signal });
  ctx.out.result({ volume, unscheduled: true }, () => [`${volume}: no more scheduled backups`]);
  return EXIT.ok;
}
