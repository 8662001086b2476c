// `convoy-backup stats STORE [--volume V]`: logical bytes, stored bytes, dedup ratio and objects,
// per volume and in total (@convoy/blockstore stats.ts).
import { storeStats, type StoreStats } from '@convoy/blockstore';
import { examples, formatBytes, formatTable } from '@convoy/cli-kit';
import { formatStoreUrl, parseStoreUrl } from '@convoy/objectstore';
import { validateVolumeName } from '@convoy/rules';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export interface StatsArgs {
  dest: string;
  volume?: string | undefined;
}

export const statsCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'stats <dest>',
      'How much the backups hold, how much the store keeps for them, and the deduplication ratio',
      (b) =>
        b
          .positional('dest', { type: 'string', demandOption: true, describe: 'Store URL: vfs:///abs/path or s3://bucket@region/prefix' })
          .option('volume', { type: 'string', requiresArg: true, describe: 'Only this volume' })
          .epilogue(
            [
              'LOGICAL is what the backups restore to, summed over backups; STORED is the size of the distinct',
              'objects (blocks, packs, compressed) they reference; DEDUP is LOGICAL / STORED. Objects no backup',
              'references (freed by `maintenance --full`) count only in the store line.',
              '',
              examples([
                ['convoy-backup stats vfs:///mnt/bk', 'Every volume and the total'],
                ['convoy-backup stats s3://bk@us-east-1/db --volume db --json', 'One volume, as JSON'],
              ]),
            ].join('\n'),
          ),
      (args) => select((ctx) => runStats(args, ctx), args),
    ),
};

export async function runStats(args: StatsArgs, ctx: CommandContext): Promise<number> {
  const { location } = parseStoreUrl(args.dest);
  if (args.volume !== undefined) validateVolumeName(args.volume);
  const store = await ctx.openStore(args.dest, { create: false });
  let stats: StoreStats;
  try {
    stats = await storeStats(store, { volume: args.volume, signal: ctx.signal });
  } finally {
    await store.close();
  }
  const ratio = (r: number): string => (r === 0 ? '-' : `${r.toFixed(2)}x`);
  ctx.out.result({ store: formatStoreUrl(location), ...stats }, () => [
    ...formatTable(
      ['VOLUME', 'BACKUPS', 'LOGICAL', 'STORED', 'DEDUP', 'OBJECTS'],
      [
        ...stats.volumes.map((v) => [
          v.volume,
          String(v.backups),
          formatBytes(v.logicalBytes),
          formatBytes(v.storedBytes),
          ratio(v.dedupRatio),
          String(v.objects),
        ]),
        [
          'total',
          String(stats.total.backups),
          formatBytes(stats.total.logicalBytes),
          formatBytes(stats.total.storedBytes),
          ratio(stats.total.dedupRatio),
          String(stats.total.objects),
        ],
      ],
    ),
    `store: ${stats.storeObjects} objects, ${formatBytes(stats.storeBytes)} (${stats.storeObjects - stats.total.objects} not referenced by any backup)`,
    ...(stats.total.missingObjects > 0
      ? [`warning: ${stats.total.missingObjects} referenced objects are missing: run convoy-backup verify`]
      : []),
  ]);
  return stats.total.missingObjects > 0 ? EXIT.problems : EXIT.ok;
}
