import { HEADER_KEY, listManifests, readHeader, type Manifest } from '@convoy/blockstore';
import { hasRancherBackups, listRancherBackups, type RancherBackupInfo } from '@convoy/dirbackup';
import { validateVolumeName } from '@convoy/rules';
import { examples, formatBytes, formatTable, formatTime } from '@convoy/cli-kit';
import { formatStoreUrl, parseStoreUrl } from '@convoy/objectstore';
import type { CliCommand, CommandContext } from '../context.js';
import { backupJson, type BackupJson } from './backup-json.js';
import { rancherBackupJson, type RancherBackupJson } from './rancher.js';
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
  const store = await ctx.openStore(args.dest, { create: false });
  let manifests: Manifest[] = [];
  let rancher: RancherBackupInfo[] = [];
  const unreadable: string[] = [];
  try {
    // A store Rancher Convoy v0.5.2 wrote has no header of ours: its backups are listed instead.
    const theirs = await hasRancherBackups(store, ctx.signal);
    if (!theirs || (await store.stat(HEADER_KEY, { signal: ctx.signal })) !== undefined) {
      await readHeader(store, ctx.signal); // a wrong URL says so instead of listing nothing
      // One damaged manifest must not hide the rest of the store: list the others, name it.
      manifests = await listManifests(store, args.volume, ctx.signal, (ref, err) =>
        unreadable.push(`${ref.volume}/${ref.id}: ${err.message}`),
      );
    }
    if (theirs)
      rancher = await listRancherBackups(store, {
        volume: args.volume,
        signal: ctx.signal,
        onProblem: (err) => unreadable.push(err.message),
      });
  } finally {
    await store.close();
  }
  const base = formatStoreUrl(location);
  const entries: ListEntry[] = [...manifests.map((m) => backupJson(base, m)), ...rancher.map((b) => rancherBackupJson(base, b))];
  if (rancher.length > 0) entries.sort((a, b) => a.created.localeCompare(b.created));
  ctx.out.result(entries, () =>
    entries.length === 0
      ? [args.volume === undefined ? 'no backups' : `no backups of volume ${args.volume}`]
      : formatTable(
          ['VOLUME', 'ID', 'CREATED', 'SIZE', 'SNAPSHOT', 'PARENT', ...(rancher.length > 0 ? ['FORMAT'] : [])],
          entries.map((e) => [
            e.volume,
            e.id,
            formatTime(e.created),
            formatBytes(e.size),
            e.snapshot ?? '-',
            e.parent ?? '-',
            ...(rancher.length > 0 ? ['format' in e ? `Rancher Convoy v0.5.2 ${e.driver}` : 'convoy'] : []),
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
