// `import <Convoy store> <our store>`: every Rancher Convoy v0.5.2 backup as a deduplicated backup
// of ours (@convoy/dirbackup's importRancherStore), oldest first, resumable: a backup imported
// before (label convoy.import.source) is skipped. Each decision is a line on stderr as it happens.
import { formatBackupUrl, parseCompression } from '@convoy/blockstore';
import { examples, formatTable } from '@convoy/cli-kit';
import type { RancherImportEvent } from '@convoy/dirbackup';
import { ERROR_CATEGORIES, categoryOf, redactUrl } from '@convoy/errors';
import { formatStoreUrl, parseStoreUrl } from '@convoy/objectstore';
import { validateVolumeName } from '@convoy/rules';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export interface ImportArgs {
  source: string;
  dest: string;
  volume?: string | undefined;
  compression?: string | undefined;
}

export const importCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'import <source> <dest>',
      'Import every Rancher Convoy v0.5.2 backup of a store into a store of this Convoy (resumable: what is imported is skipped)',
      (b) =>
        b
          .positional('source', {
            type: 'string',
            demandOption: true,
            describe: "Rancher Convoy's store: vfs:///abs/path or s3://bucket@region/prefix",
          })
          .positional('dest', { type: 'string', demandOption: true, describe: 'Store to import into (created if new)' })
          .option('volume', { type: 'string', requiresArg: true, describe: "Only this volume's backups" })
          .option('compression', { type: 'string', requiresArg: true, describe: "zstd | lz4 | gzip | none (default: the store's)" })
          .epilogue(
            examples([
              [
                'convoy-backup import vfs:///mnt/convoy-backups vfs:///mnt/bk',
                'Every Convoy backup, oldest first; run it again to finish an interrupted import',
              ],
              ['convoy-backup import s3://old@us-east-1/convoy s3://bk@us-east-1/new --volume db', "One volume's backups, S3 to S3"],
              [
                'convoy-backup import vfs:///mnt/convoy-backups vfs:///mnt/bk --json',
                'Each backup as a JSON line on stderr, the summary as the last stdout line',
              ],
            ]),
          ),
      (args) => select((ctx) => runImport(args, ctx), args),
    ),
};

/** One backup in import's result (and in its stderr lines with --json). */
export interface ImportEntryJson {
  type: RancherImportEvent['type'];
  volume: string;
  /** Convoy's backup name. */
  source: string;
  driver: 'vfs' | 'devicemapper';
  created: string;
  snapshot: string | null;
  /** Ours, when imported (now or before). */
  id?: string;
  url?: string;
  error?: { code: string; message: string; hint?: string | undefined };
}

export async function runImport(args: ImportArgs, ctx: CommandContext): Promise<number> {
  const dest = parseStoreUrl(args.dest);
  parseStoreUrl(args.source);
  if (args.volume !== undefined) validateVolumeName(args.volume);
  const compression = args.compression === undefined ? undefined : parseCompression(args.compression);
  const destUrl = formatStoreUrl(dest.location);
  const entry = (e: RancherImportEvent): ImportEntryJson => ({
    type: e.type,
    volume: e.backup.volume,
    source: e.backup.name,
    driver: e.backup.driver,
    created: e.backup.created,
    snapshot: e.backup.snapshot === '' ? null : e.backup.snapshot,
    ...(e.manifest === undefined ? {} : { id: e.manifest.id, url: redactUrl(formatBackupUrl(destUrl, e.manifest.volume, e.manifest.id)) }),
    ...(e.error === undefined ? {} : { error: e.error }),
  });
  const source = await ctx.openStore(args.source, { create: false });
  const entries: ImportEntryJson[] = [];
  try {
    const store = await ctx.openStore(args.dest, { create: true });
    let progress = ctx.progress('import');
    try {
      const { importRancherStore } = await import('@convoy/dirbackup');
      await importRancherStore({
        source,
        dest: store,
        volume: args.volume,
        compression,
        signal: ctx.signal,
        onProgress: (p) => progress.update(p),
        onBackup: (e) => {
          progress.stop();
          const j = entry(e);
          entries.push(j);
          announce(ctx, j);
          progress = ctx.progress('import');
        },
      });
    } finally {
      progress.stop();
      await store.close();
    }
  } finally {
    await source.close();
  }
  const count = (t: ImportEntryJson['type']): number => entries.filter((e) => e.type === t).length;
  const summary = {
    source: redactUrl(formatStoreUrl(parseStoreUrl(args.source).location)),
    dest: redactUrl(destUrl),
    imported: count('imported'),
    alreadyImported: count('already-imported'),
    skipped: count('skipped'),
    failed: count('failed'),
    backups: entries,
  };
  ctx.out.result(summary, () => [
    ...(entries.length === 0
      ? ['the store holds no Rancher Convoy backups' + (args.volume === undefined ? '' : ` of volume ${args.volume}`)]
      : formatTable(
          ['VOLUME', 'CONVOY BACKUP', 'RESULT', 'BACKUP'],
          entries.map((e) => [e.volume, e.source, e.type, e.id ?? e.error?.code ?? '-']),
        )),
    `${summary.imported} imported, ${summary.alreadyImported} imported before, ${summary.skipped} skipped, ${summary.failed} failed`,
  ]);
  const failed = entries.find((e) => e.type === 'failed');
  // The first failure's exit code (the others are in the result); skipped backups do not fail the run.
  return failed?.error === undefined ? EXIT.ok : ERROR_CATEGORIES[categoryOf(failed.error.code)].exit;
}

/** A line on stderr as each backup is decided: JSON with --json (also with --quiet), else a note. */
function announce(ctx: CommandContext, e: ImportEntryJson): void {
  if (ctx.globals.json) {
    ctx.io.stderr.write(`${JSON.stringify(e)}\n`);
    return;
  }
  const what = `Rancher Convoy backup ${e.source} of volume ${e.volume}`;
  if (e.type === 'imported') ctx.out.info(`imported ${what} as ${e.id}`);
  else if (e.type === 'already-imported') ctx.out.info(`${what} was imported before, as ${e.id}`);
  else {
    // skipped and failed are said even with --quiet: the run's result depends on them
    ctx.io.stderr.write(`convoy-backup: ${e.type === 'skipped' ? 'skipped' : 'failed'} ${what}: ${e.error?.message ?? ''}\n`);
    if (e.error?.hint !== undefined) ctx.io.stderr.write(`hint: ${e.error.hint}\n`);
  }
}
