import type { Argv } from 'yargs';
import { examples, EXIT, formatSize, formatTable, formatTime } from '@convoy/cli-kit';
import type { ApiError, BackupSummary, CreateBackupResponse } from '@convoy/control-api';
import { printableUrl, reportProblems } from '../output.js';
import { checkName, checkUrl, parsePairs } from '../args.js';
import type { CliCommand, CommandContext, Select } from '../context.js';
import { prettyJson } from './inspect.js';
import { scheduleSubcommands } from './schedule.js';

export const backupCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'backup <command>',
      'Back snapshots up to S3 or a directory; list, inspect and delete backups',
      (b) =>
        scheduleSubcommands(subcommands(b, select), select)
          .demandCommand(1, 'name a backup command: create, delete, inspect, list, schedule, schedules, unschedule')
          .epilogue(
            examples([
              ['convoy backup create nightly-1 --dest s3://bk@us-east-1/db', 'Back snapshot nightly-1 up to S3'],
              ['convoy backup list s3://bk@us-east-1/db', 'Backups in that store'],
            ]),
          ),
      () => undefined,
    ),
};

export interface BackupCreateArgs {
  snapshot: string;
  dest: string;
  label?: string[] | undefined;
}

function subcommands(y: Argv, select: Select): Argv {
  return y
    .command(
      'create <snapshot>',
      "Back a snapshot up (incremental on the volume's last backup there); prints the backup URL last",
      (b) =>
        b
          .positional('snapshot', { type: 'string', demandOption: true, describe: 'Snapshot name' })
          .option('dest', {
            type: 'string',
            demandOption: true,
            requiresArg: true,
            describe: 'Store URL: vfs:///abs/path or s3://bucket@region/prefix',
          })
          .option('label', { type: 'string', array: true, nargs: 1, describe: 'key=value recorded with the backup (repeatable)' })
          .epilogue(
            examples([
              ['convoy backup create nightly-1 --dest s3://bk@us-east-1/db', 'Back up to S3; the last line is the backup URL'],
              ['convoy backup create nightly-1 --dest vfs:///mnt/nfs/bk --label env=prod', 'Back up to a directory, with a label'],
              ['url=$(convoy backup create nightly-1 --dest vfs:///mnt/bk | tail -n1)', 'Keep the URL in a script'],
              [
                'convoy backup create nightly-1 --dest vfs:///mnt/bk --json',
                '{"url","id"} as the last line; progress as JSON lines on stderr',
              ],
            ]),
          ),
      (args) => select((ctx) => runBackupCreate(args, ctx), args),
    )
    .command(
      'delete <url>',
      'Delete a backup (blocks no other backup uses are removed)',
      (b) =>
        b
          .positional('url', { type: 'string', demandOption: true, describe: 'Backup URL, as `backup create` printed it' })
          .epilogue(examples([["convoy backup delete 'vfs:///mnt/bk?backup=0001&volume=db'", 'Delete one backup']])),
      (args) => select((ctx) => runBackupDelete(args, ctx), args),
    )
    .command(
      'inspect <url>',
      'Show a backup and its manifest as JSON',
      (b) =>
        b.positional('url', { type: 'string', demandOption: true, describe: 'Backup URL' }).epilogue(
          examples([
            ["convoy backup inspect 's3://bk@us-east-1/db?backup=0001&volume=db'", 'The backup as indented JSON'],
            [
              "convoy backup inspect 'vfs:///var/lib/convoy-backups?backup=backup-f12db86493774ab7\\u0026volume=vol1'",
              "A Rancher Convoy v0.5.2 backup, URL as Convoy printed it: Convoy's fields (BackupName, BackupURL, …)",
            ],
          ]),
        ),
      (args) => select((ctx) => runBackupInspect(args, ctx), args),
    )
    .command(
      'list <dest>',
      'List the backups in a store',
      (b) =>
        b
          .positional('dest', { type: 'string', demandOption: true, describe: 'Store URL: vfs:///abs/path or s3://bucket@region/prefix' })
          .option('volume', {
            alias: 'volume-name',
            type: 'string',
            requiresArg: true,
            describe: "Only this volume's backups (Convoy's --volume-name works too)",
          })
          .epilogue(
            examples([
              ['convoy backup list vfs:///mnt/bk', 'Every backup in the store'],
              ['convoy backup list s3://bk@us-east-1/db --volume db --json', "One volume's backups as a JSON array"],
              [
                'convoy backup list vfs:///var/lib/convoy-backups',
                "A Rancher Convoy v0.5.2 store: its backups, with Convoy's fields in --json",
              ],
            ]),
          ),
      (args) => select((ctx) => runBackupList(args, ctx), args),
    );
}

export async function runBackupCreate(args: BackupCreateArgs, ctx: CommandContext): Promise<number> {
  const snapshot = checkName('snapshot', args.snapshot);
  const dest = checkUrl('destination', args.dest, { backup: false });
  const labels = parsePairs('label', args.label);
  const progress = ctx.progress('backup');
  let res: CreateBackupResponse;
  try {
    res = await ctx.client().createBackup({ snapshot, dest, labels }, { signal: ctx.signal, onProgress: (p) => progress.update(p) });
  } finally {
    progress.stop();
  }
  const url = printableUrl(res.url);
  ctx.out.result({ ...res, url }, () => [url]);
  return EXIT.ok;
}

export async function runBackupDelete(args: { url: string }, ctx: CommandContext): Promise<number> {
  const url = checkUrl('backup URL', args.url, { backup: true });
  const res = await ctx.client().deleteBackup(url, { signal: ctx.signal });
  if (res.alreadyDeleted === true) ctx.out.info(`backup ${printableUrl(url)} was already deleted`);
  else if (res.collectedBy === 'maintenance')
    ctx.out.info(
      `deleted backup ${printableUrl(url)}; its blocks are freed by the store's maintenance (the daemon runs it, or \`convoy-backup maintenance --full\`)`,
    );
  else ctx.out.info(`deleted backup ${printableUrl(url)}: ${res.blocksDeleted} blocks removed, ${res.blocksKept} kept for other backups`);
  ctx.out.result(res, () => []);
  return EXIT.ok;
}

export async function runBackupInspect(args: { url: string }, ctx: CommandContext): Promise<number> {
  const res = await ctx.client().inspectBackup(checkUrl('backup URL', args.url, { backup: true }), { signal: ctx.signal });
  const shown = { ...res, url: printableUrl(res.url) };
  // A Rancher Convoy v0.5.2 backup: its fields as Convoy's own `backup inspect` printed them.
  const convoy = res.convoy === undefined ? undefined : { ...res.convoy, BackupURL: printableUrl(res.convoy.BackupURL ?? '') };
  ctx.out.result(shown, () => prettyJson(convoy ?? shown));
  return EXIT.ok;
}

export async function runBackupList(args: { dest: string; volume?: string | undefined }, ctx: CommandContext): Promise<number> {
  const dest = checkUrl('destination', args.dest, { backup: false });
  const volume = args.volume === undefined ? undefined : checkName('volume', args.volume);
  const problems: ApiError[] = [];
  const listed = await ctx.client().listBackups(dest, volume, { signal: ctx.signal, onProblem: (p) => problems.push(p) });
  const backups = listed.map((b) => ({ ...b, url: printableUrl(b.url) }));
  ctx.out.result(backups, () =>
    backups.length === 0 ? [volume === undefined ? 'no backups' : `no backups of volume ${volume}`] : backupTable(backups),
  );
  return reportProblems(ctx, problems);
}

/** Rancher Convoy v0.5.2's backups in the store get a FORMAT column (their driver). */
function backupTable(backups: readonly BackupSummary[]): string[] {
  const theirs = backups.some((b) => b.format !== undefined);
  return formatTable(
    ['VOLUME', 'ID', 'CREATED', 'SIZE', 'SNAPSHOT', 'PARENT', ...(theirs ? ['FORMAT'] : []), 'URL'],
    backups.map((b) => [
      b.volume,
      b.id,
      formatTime(b.created),
      formatSize(b.size),
      b.snapshot ?? '-',
      b.parent ?? '-',
      ...(theirs ? [b.format === undefined ? 'convoy' : `Rancher Convoy v0.5.2 ${b.driver ?? ''}`] : []),
      b.url,
    ]),
  );
}
