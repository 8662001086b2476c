// `convoy-backup forget STORE [--volume V] --keep-…`: a retention policy applied per volume, with
// restic's semantics (@convoy/blockstore retention.ts): what it keeps and why, what it removes;
// the removed backups are deleted (O(1) each on a v2 store) and `maintenance --full` frees their blocks.
import { applyRetention, forgetBackups, readHeader, type RetentionPolicy } from '@convoy/blockstore';
import { examples, formatTable, formatTime, retentionFlags, retentionOptions, type RetentionArgs } from '@convoy/cli-kit';
import { formatStoreUrl, parseStoreUrl } from '@convoy/objectstore';
import { validateVolumeName } from '@convoy/rules';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export interface ForgetArgs extends RetentionArgs {
  dest: string;
  volume?: string | undefined;
  'dry-run'?: boolean | undefined;
}

/** One volume's decision, as `--json` prints it. */
export interface ForgetVolumeJson {
  volume: string;
  keep: { id: string; created: string; reasons: string[] }[];
  remove: { id: string; created: string }[];
}

export const forgetCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'forget <dest>',
      "Remove the backups a retention policy does not keep (restic's --keep-* rules), per volume",
      (b) =>
        retentionOptions(
          b
            .positional('dest', { type: 'string', demandOption: true, describe: 'Store URL: vfs:///abs/path or s3://bucket@region/prefix' })
            .option('volume', { type: 'string', requiresArg: true, describe: 'Only this volume (default: every volume, each on its own)' }),
        )
          .option('dry-run', { type: 'boolean', describe: 'Show what would be kept and removed; remove nothing' })
          .epilogue(
            [
              'A backup is kept if any rule keeps it. Periods are UTC calendar hours, days, ISO weeks, months and years;',
              'each rule keeps the newest backup of a period. Without any --keep-* rule nothing is removed (an error).',
              'Removed backups are deleted at once; their blocks are freed by `convoy-backup maintenance DEST --full`.',
              '',
              examples([
                ['convoy-backup forget vfs:///mnt/bk --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --dry-run', 'What a policy would do'],
                ['convoy-backup forget s3://bk@us-east-1/db --volume db --keep-last 3 --keep-within 30d', 'Apply it to one volume'],
                ['convoy-backup maintenance s3://bk@us-east-1/db --full', 'Afterwards: free the space'],
              ]),
            ].join('\n'),
          ),
      (args) => select((ctx) => runForget(args, ctx), args),
    ),
};

const policyOf = (a: ForgetArgs): RetentionPolicy => retentionFlags(a);

export async function runForget(args: ForgetArgs, ctx: CommandContext): Promise<number> {
  const { location } = parseStoreUrl(args.dest);
  if (args.volume !== undefined) validateVolumeName(args.volume);
  const policy = policyOf(args);
  applyRetention([], policy); // a bad policy fails before the store is touched
  const dryRun = args['dry-run'] === true;
  const store = await ctx.openStore(args.dest, { create: false });
  const decisions: ForgetVolumeJson[] = [];
  try {
    await readHeader(store, ctx.signal);
    for (const [volume, d] of await forgetBackups({ store, policy, volume: args.volume, dryRun, signal: ctx.signal })) {
      decisions.push({
        volume,
        keep: d.keep.map((k) => ({ id: k.item.id, created: k.item.manifest.created, reasons: k.reasons })),
        remove: d.remove.map((r) => ({ id: r.id, created: r.manifest.created })),
      });
    }
  } finally {
    await store.close();
  }
  const removed = decisions.reduce((n, d) => n + d.remove.length, 0);
  const store_ = formatStoreUrl(location);
  ctx.out.result({ store: store_, dryRun, policy, volumes: decisions, removed }, () =>
    [
      ...decisions.flatMap((d) => [
        `volume ${d.volume}: keep ${d.keep.length}, ${dryRun ? 'would remove' : 'removed'} ${d.remove.length}`,
        ...formatTable(
          ['ID', 'CREATED', 'ACTION', 'WHY'],
          [
            ...d.keep.map((k) => [k.id, formatTime(k.created), 'keep', k.reasons.join(', ')]),
            ...d.remove.map((r) => [r.id, formatTime(r.created), dryRun ? 'would remove' : 'removed', 'no rule keeps it']),
          ].sort((a, b) => (b[0] ?? '').localeCompare(a[0] ?? '')),
        ),
      ]),
      decisions.length === 0 ? 'no backups' : '',
      ...(removed > 0 && !dryRun ? [`free their space with: convoy-backup maintenance ${store_} --full`] : []),
    ].filter((l) => l !== ''),
  );
  return EXIT.ok;
}
