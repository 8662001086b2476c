import { readHeader, runMaintenance, type MaintenanceResult } from '@convoy/blockstore';
import { examples, formatDuration, formatTime, parseDuration, usageError } from '@convoy/cli-kit';
import { redactUrl } from '@convoy/errors';
import { parseStoreUrl } from '@convoy/objectstore';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export interface MaintenanceArgs {
  dest: string;
  full?: boolean | undefined;
  grace?: string | undefined;
  'rebuild-index'?: boolean | undefined;
}

export const maintenanceCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'maintenance <dest>',
      "Merge new and deleted backups into the store's reference index; with --full also free the blocks no backup uses",
      (b) =>
        b
          .positional('dest', {
            type: 'string',
            demandOption: true,
            describe: 'Store URL: vfs:///abs/path or s3://bucket@region/prefix (format v2)',
          })
          .option('full', {
            type: 'boolean',
            default: false,
            describe:
              'Also sweep: delete blocks found unreferenced by two full runs a grace period apart, mark newly unreferenced ones, ' +
              'remove orphan block maps, stale temporary files and expired leases. Reads the whole store: run it daily or weekly',
          })
          .option('rebuild-index', {
            type: 'boolean',
            default: false,
            describe:
              "Rebuild the reference index from every backup's block map instead of merging into it (reads the whole store). " +
              'The way out when maintenance or verify reports CONVOY_INDEX_CORRUPT; refuses while a backup cannot be read',
          })
          .option('grace', {
            type: 'string',
            requiresArg: true,
            describe:
              "Grace period for this run instead of the store's (gc.graceMs in convoy.json, 24h by default), e.g. 0, 10m, 1h. " +
              'Meant for a store nobody else is using: deleting stays safe either way (backups check before they commit), ' +
              'but with a short grace a backup running during the sweep has to upload the blocks it swept again',
          })
          .epilogue(
            examples([
              ['convoy-backup maintenance vfs:///mnt/bk', 'Quick: merge the references of new and deleted backups (cheap; run it hourly)'],
              [
                'convoy-backup maintenance s3://bk@us-east-1/db --full',
                'Also free unused blocks (they are marked first and deleted by a full run a grace period later)',
              ],
              ['convoy-backup maintenance vfs:///mnt/bk --full --grace 0 --json', 'Clean up a store nobody else uses; the result as JSON'],
              [
                'convoy-backup maintenance vfs:///mnt/bk --rebuild-index',
                'Recount the index from the backups after verify named a damaged index object',
              ],
            ]),
          ),
      (args) => select((ctx) => runMaintenanceCommand(args, ctx), args),
    ),
};

export async function runMaintenanceCommand(args: MaintenanceArgs, ctx: CommandContext): Promise<number> {
  parseStoreUrl(args.dest);
  const graceMs = args.grace === undefined ? undefined : parseGrace(args.grace);
  const full = args.full === true;
  const store = await ctx.openStore(args.dest, { create: false });
  const progress = ctx.progress('maintenance');
  let result: MaintenanceResult;
  let storeGraceMs: number | undefined;
  try {
    storeGraceMs = (await readHeader(store, ctx.signal)).header.gc?.graceMs;
    result = await runMaintenance({
      store,
      full,
      rebuildIndex: args['rebuild-index'] === true,
      graceMs,
      signal: ctx.signal,
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.stop();
    await store.close();
  }
  const url = redactUrl(args.dest);
  ctx.out.result({ url, ...result, graceMs: graceMs ?? storeGraceMs ?? null }, () => describe(result, url, graceMs, storeGraceMs));
  return EXIT.ok;
}

function parseGrace(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw usageError(`invalid --grace ${JSON.stringify(text)}`, 'give a duration such as 0, 90s, 10m, 1h or 7d');
  return ms;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function describe(r: MaintenanceResult, url: string, graceMs: number | undefined, storeGraceMs: number | undefined): string[] {
  const m = r.merge;
  const lines = [
    `${r.full ? 'full' : 'quick'} maintenance of ${url}: index generation ${r.generation}`,
    `merged ${plural(m.adds, 'new backup')} and ${plural(m.deletes, 'delete')}; removed ${plural(m.abandoned, 'abandoned backup marker')}; ` +
      `${plural(m.inFlight, 'backup')} still being made (merged by a later run)`,
  ];
  if (graceMs !== undefined)
    lines.push(
      `grace period for this run: ${formatDuration(graceMs)} (the store's: ${storeGraceMs === undefined ? '-' : formatDuration(storeGraceMs)})`,
    );
  const s = r.sweep;
  if (s === undefined) {
    if (m.deletes > 0) lines.push('blocks of deleted backups are freed by `convoy-backup maintenance --full`');
  } else {
    lines.push(
      `blocks: ${s.blocksDeleted} deleted, ${s.blocksSpared} spared (used again since they were marked), ${s.blocksMarked} newly marked unreferenced (${s.blocksListed} listed)`,
    );
    if (s.blocksMarked > 0 && storeGraceMs !== undefined) {
      const after = new Date(Date.now() + storeGraceMs).toISOString();
      lines.push(
        `marked blocks are deleted by a full maintenance after ${formatTime(after)} (the store's grace period, ${formatDuration(storeGraceMs)}), unless a backup uses them again`,
      );
    }
    if (s.postponed !== undefined) lines.push(`deleting postponed: ${s.postponed}`);
    lines.push(
      `removed ${plural(s.orphanMapsDeleted, 'orphan block map')}, ${plural(s.staleRemoved, 'stale temporary file')}, ` +
        `${plural(s.leasesRemoved, 'expired lease')}, ${plural(s.recordsPruned, 'old sweep record')}`,
    );
  }
  if (r.problems.length > 0)
    lines.push(
      `${plural(r.problems.length, 'problem')} worked around (nothing was deleted because of them):`,
      ...r.problems.map((p) => `  ${p}`),
    );
  return lines;
}
