import fs from 'node:fs/promises';
import path from 'node:path';
import { backupVolume, FileSource, parseCompression, parseExtents, type Extent, type Manifest } from '@convoy/blockstore';
import { validateVolumeName } from '@convoy/rules';
import { CliError, examples, formatBytes, formatDuration, usageError } from '@convoy/cli-kit';
import { formatStoreUrl, parseStoreUrl } from '@convoy/objectstore';
import { parseLabels, parseParent, parseSnapshotName } from '../args.js';
import type { CliCommand, CommandContext } from '../context.js';
import { backupJson } from './backup-json.js';
import { EXIT } from '../errors.js';

export interface CreateArgs {
  source: string;
  dest: string;
  volume: string;
  compression?: string | undefined;
  changed?: string | undefined;
  parent?: string | undefined;
  label?: string[] | undefined;
  snapshot?: string | undefined;
  /** false (--no-skip-holes): read a sparse file's holes too. */
  skipHoles?: boolean | undefined;
}

export const createCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'create <source>',
      'Back up a file, block device or directory into a store; prints the backup URL',
      (b) =>
        b
          .positional('source', {
            type: 'string',
            demandOption: true,
            describe: 'File, block device or directory to back up (a snapshot: it must not change while it is read)',
          })
          .option('dest', {
            type: 'string',
            demandOption: true,
            requiresArg: true,
            describe: 'Store URL: vfs:///abs/path or s3://bucket@region/prefix',
          })
          .option('volume', { type: 'string', demandOption: true, requiresArg: true, describe: 'Volume name the backup is filed under' })
          .option('compression', {
            type: 'string',
            requiresArg: true,
            describe: "zstd | lz4 | gzip | none (default: the store's, zstd for a new store)",
          })
          .option('changed', {
            type: 'string',
            requiresArg: true,
            describe:
              'File listing the extents changed since the parent: JSON [[offset, length], …] or lines "offset length"; only those blocks are read',
          })
          .option('parent', {
            type: 'string',
            requiresArg: true,
            describe: 'Backup to be incremental against: an id, latest (default) or none (full backup)',
          })
          .option('label', { type: 'string', array: true, nargs: 1, describe: 'key=value recorded in the manifest (repeatable)' })
          .option('snapshot', { type: 'string', requiresArg: true, describe: 'Snapshot name recorded in the manifest' })
          .option('skip-holes', {
            type: 'boolean',
            default: true,
            describe:
              "Skip a sparse file's holes unread (lseek SEEK_DATA); --no-skip-holes reads them, for a file system whose SEEK_DATA cannot be trusted",
          })
          .epilogue(
            examples([
              [
                'convoy-backup create /dev/vg0/snap1 --dest s3://bk@us-east-1/db --volume db --snapshot snap1',
                'Back up a block device snapshot to S3',
              ],
              [
                'convoy-backup create disk.img --dest vfs:///mnt/nfs/bk --volume vm1 --label env=prod',
                'Back up a file to a directory store',
              ],
              [
                'convoy-backup create disk.img --dest vfs:///mnt/bk --volume vm1 --changed changes.txt',
                'Read only the changed extents, the rest comes from the latest backup',
              ],
              [
                'convoy-backup create disk.img --dest vfs:///mnt/bk --volume vm1 --json',
                'Print {"url","id","volume","stats",…} as the last line',
              ],
              [
                'convoy-backup create /srv/www --dest vfs:///mnt/bk --volume www',
                'Back up a directory: files chunked and deduplicated, unchanged files not read again',
              ],
            ]),
          ),
      (args) => select((ctx) => runCreate(args, ctx), args),
    ),
};

export async function runCreate(args: CreateArgs, ctx: CommandContext): Promise<number> {
  // Everything the command line says is checked before anything is opened or written.
  const compression = args.compression === undefined ? undefined : parseCompression(args.compression);
  validateVolumeName(args.volume);
  const parent = parseParent(args.parent);
  const labels = parseLabels(args.label ?? []);
  const snapshot = parseSnapshotName(args.snapshot);
  if (args.changed !== undefined && parent === null) {
    throw usageError(
      '--changed needs a parent backup, but --parent none asks for a full backup',
      'drop --changed for a full backup, or name the parent with --parent',
    );
  }
  const dest = parseStoreUrl(args.dest);
  const st = await fs.stat(path.resolve(args.source)).catch(() => undefined);
  if (st?.isDirectory() === true) {
    if (args.changed !== undefined)
      throw usageError(
        '--changed applies to block images, not to a directory',
        'drop --changed: a directory backup finds unchanged files by size and mtime',
      );
    // loaded only for a directory: a block backup does without @convoy/dirbackup (start-up time, memory)
    const { runCreateDirectory } = await import('./create-dir.js');
    return runCreateDirectory(
      {
        dir: path.resolve(args.source),
        dest: dest.location,
        destUrl: args.dest,
        volume: args.volume,
        parent,
        compression,
        labels,
        snapshot,
      },
      ctx,
    );
  }
  const changed = args.changed === undefined ? undefined : await readChangedExtents(args.changed);
  const source = await FileSource.open(path.resolve(args.source), { skipHoles: args.skipHoles ?? true });
  try {
    const store = await ctx.openStore(args.dest, { create: true });
    const progress = ctx.progress('backup');
    let manifest: Manifest;
    try {
      ({ manifest } = await backupVolume({
        store,
        volume: args.volume,
        source,
        snapshot,
        parent,
        changed,
        compression,
        labels,
        signal: ctx.signal,
        onProgress: (p) => progress.update(p),
      }));
    } finally {
      progress.stop();
      await store.close();
    }
    // Built from the parsed location (percent-encoded path), not the store's display location.
    const json = backupJson(formatStoreUrl(dest.location), manifest);
    const url = json.url;
    const s = manifest.stats;
    ctx.out.info(
      `backed up ${source.path} (${formatBytes(manifest.size)}) as backup ${manifest.id} of volume ${manifest.volume}` +
        `${manifest.parent === null ? '' : ` (incremental on ${manifest.parent})`}: ${s.blocksRead} of ${s.blocksTotal} blocks read, ` +
        `${s.blocksUploaded} uploaded (${formatBytes(s.bytesUploaded)}) in ${formatDuration(s.durationMs)}`,
    );
    ctx.out.result(json, () => [url]);
    return EXIT.ok;
  } finally {
    await source.close();
  }
}

async function readChangedExtents(file: string): Promise<Extent[]> {
  let text: string;
  try {
    text = await fs.readFile(path.resolve(file), 'utf8');
  } catch (err) {
    throw new CliError(
      'CONVOY_CHANGED_UNREADABLE',
      `cannot read the changed-extent list ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        hint: 'name a readable file with --changed',
        cause: err,
      },
    );
  }
  try {
    return parseExtents(text);
  } catch (err) {
    // parseExtents lets JSON.parse's SyntaxError through for a list that starts with '['.
    if (err instanceof SyntaxError) {
      throw new CliError('CONVOY_INVALID_ARGUMENT', `the changed-extent list ${file} is not valid JSON: ${err.message}`, {
        hint: 'a changed-extent list is JSON [[offset, length], …] or lines "offset length" (bytes)',
      });
    }
    throw err;
  }
}
