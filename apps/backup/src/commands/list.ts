import type { StoreBackups } from '@convoy/dirbackup';
import { validateVolumeName } from '@convoy/rules';
import { examples, formatBytes, formatTable, formatTime } from '@convoy/cli-kit';
import { formatStoreUrl, parseStoreUrl } from '@convoy/objectstore';
import type { CliCommand, CommandContext } from '../context.js';
import { backupJson, type BackupJson } from './backup-json.js';
import type { RancherBackupJson } from './rancher.js';
import { EXIT } from '../errors.js';
import { PROGRAM } from '../program.js';

export interface ListArgs {
  dest: string;
  volume?: string | undefined;
}

export const listCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'list <dest>',
      'List the backups in a store',
      (b) =>
        b
          .positional('dest', { type: 'string', demandOption: true, describe: 'Store URL: vfs:///abs/path or s3://bucket@region/prefix' })
          .option('volume', { type: 'string', requiresArg: true, describe: "Only this volume's backups" })
          .epilogue(
            examples([
              ['convoy-backup list vfs:///mnt/bk', 'Every backup of every volume, oldest first'],
              ['convoy-backup list s3://bk@us-east-1/db --volume db --json', 'One volume, as a JSON array'],
            ]),
          ),
      (args) => select((ctx) => runList(args, ctx), args),
    ),
};

/** One row of `list --json`: one of our backups, or one of Rancher Convoy v0.5.2's (with `format`). */
export type ListEntry = BackupJson | RancherBackupJson;

export async function runList(args: ListArgs, ctx: CommandContext): Promise<number> {
  const { location } = parseStoreUrl(args.dest);
  if (args.volume !== undefined) validateVolumeName(args.volume);
  // loaded here, not at start-up: the commands that do not list pay nothing for them
  const { IMPORT_LABEL, listStoreBackups } = await import('@convoy/dirbackup');
  const { rancherBackupJson } = await import('./rancher.js');
  const store = await ctx.openStore(args.dest, { create: false });
  const unreadable: string[] = [];
  let listed: StoreBackups;
  try {
    // One damaged manifest or record must not hide the rest of the store: list the others, name it.
    listed = await listStoreBackups(store, {
      volume: args.volume,
      signal: ctx.signal,
      onProblem: (err, ref) => unreadable.push(ref === undefined ? err.message : `${ref.volume}/${ref.id}: ${err.message}`),
    });
  } finally {
    await store.close();
  }
  const { manifests, rancher } = listed;
  const base = formatStoreUrl(location);
  const entries: ListEntry[] = [...manifests.map((m) => backupJson(base, m)), ...rancher.map((b) => rancherBackupJson(base, b))];
  if (rancher.length > 0) entries.sort((a, b) => a.created.localeCompare(b.created));
  // Backups `import` made from Rancher Convoy's: a FROM column names the Convoy backup and its time.
  const from = (e: ListEntry): string | undefined => ('labels' in e ? e.labels[IMPORT_LABEL.source] : undefined);
  const imported = entries.some((e) => from(e) !== undefined);
  ctx.out.result(entries, () =>
    entries.length === 0
      ? [args.volume === undefined ? 'no backups' : `no backups of volume ${args.volume}`]
      : formatTable(
          [
            'VOLUME',
            'ID',
            'CREATED',
            'SIZE',
            'SNAPSHOT',
            'PARENT',
            ...(rancher.length > 0 ? ['FORMAT'] : []),
            ...(imported ? ['FROM'] : []),
          ],
          entries.map((e) => [
            e.volume,
            e.id,
            formatTime(e.created),
            formatBytes(e.size),
            e.snapshot ?? '-',
            e.parent ?? '-',
            ...(rancher.length > 0 ? ['format' in e ? `Rancher Convoy v0.5.2 ${e.driver}` : 'convoy'] : []),
            ...(imported ? [fromColumn(e, from(e), IMPORT_LABEL.created)] : []),
          ]),
        ),
  );
  for (const u of unreadable) ctx.io.stderr.write(`${PROGRAM.name}: warning: backup ${u}\n`);
  if (unreadable.length > 0) {
    ctx.io.stderr.write(`hint: run \`convoy-backup verify\` on the store; delete backups that cannot be repaired\n`);
    return EXIT.problems;
  }
  return EXIT.ok;
}

/** An imported backup's origin: Convoy's backup name and when Convoy made it. */
function fromColumn(e: ListEntry, source: string | undefined, createdLabel: string): string {
  if (source === undefined || !('labels' in e)) return '-';
  const created = e.labels[createdLabel];
  return `Rancher Convoy ${source}${created === undefined ? '' : ` (${formatTime(created)})`}`;
}
