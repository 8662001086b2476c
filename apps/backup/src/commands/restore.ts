import fs from 'node:fs/promises';
import path from 'node:path';
import { isDirectoryManifest, parseAnyBackupUrl, readManifest, restoreBackup, type RestoreResult } from '@convoy/blockstore';
import { CliError, examples, formatBytes, usageError } from '@convoy/cli-kit';
import type { ObjectStore } from '@convoy/objectstore';
import { redactUrl } from '@convoy/errors';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export interface RestoreArgs {
  url: string;
  target: string;
  incremental?: boolean | undefined;
  path?: string | undefined;
}

export const restoreCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'restore <url> <target>',
      'Restore a backup into a file or block device, or a directory backup into an empty directory',
      (b) =>
        b
          .positional('url', {
            type: 'string',
            demandOption: true,
            describe: 'Backup URL, as create (or Rancher Convoy v0.5.2) printed it (…?backup=ID&volume=NAME)',
          })
          .positional('target', {
            type: 'string',
            demandOption: true,
            describe:
              'File (created sparse, replaced atomically) or block device (written in place); for a directory backup an empty or new directory',
          })
          .option('path', {
            type: 'string',
            requiresArg: true,
            describe:
              'Directory backups: restore only this file or subtree (relative to the backed-up directory), at its path under TARGET',
          })
          .option('incremental', {
            type: 'boolean',
            default: false,
            describe: 'TARGET already holds an earlier state of the volume: read and hash it, fetch and write only the blocks that differ',
          })
          .epilogue(
            examples([
              ["convoy-backup restore 'vfs:///mnt/bk?backup=20261124T170000000Z-3f9a1c&volume=vm1' vm1.img", 'Restore into a new file'],
              [
                "convoy-backup restore 's3://bk@us-east-1/db?backup=20261124T170000000Z-3f9a1c&volume=db' /dev/sdb --incremental",
                'Bring a device up to date, writing only changed blocks',
              ],
              [
                "convoy-backup restore 'vfs:///mnt/bk?backup=20261124T170000000Z-3f9a1c&volume=www' /tmp/www --path etc/nginx.conf",
                'Restore one file of a directory backup (to /tmp/www/etc/nginx.conf)',
              ],
            ]),
          ),
      (args) => select((ctx) => runRestore(args, ctx), args),
    ),
};

export async function runRestore(args: RestoreArgs, ctx: CommandContext): Promise<number> {
  const any = parseAnyBackupUrl(args.url);
  const target = path.resolve(args.target);
  await checkTargetDirectory(target);
  // @convoy/dirbackup is loaded only for the backups that need it: a block restore does without it
  if (any.format === 'rancher-convoy-v0.5.2') return (await import('./rancher.js')).runRestoreRancher(args, ctx, any);
  const ref = { storeUrl: any.storeUrl, volume: any.volume, id: any.id };
  const store = await ctx.openStore(ref.storeUrl, { create: false });
  let directory: boolean;
  try {
    directory = isDirectoryManifest(await readManifest(store, ref.volume, ref.id, ctx.signal));
  } catch (err) {
    await store.close();
    throw err;
  }
  if (directory) return runRestoreDirectory(args, ctx, store, { ...ref, target });
  if (args.path !== undefined) {
    await store.close();
    throw usageError(
      '--path applies to directory backups; this backup is a block image',
      'restore the whole image, then mount it to pick files',
    );
  }
  const progress = ctx.progress('restore');
  let result: RestoreResult;
  try {
    result = await restoreBackup({
      store,
      volume: ref.volume,
      id: ref.id,
      target,
      incremental: args.incremental === true,
      signal: ctx.signal,
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.stop();
    await store.close();
  }
  const m = result.manifest;
  ctx.out.result(
    {
      url: redactUrl(args.url),
      volume: m.volume,
      id: m.id,
      target,
      size: m.size,
      incremental: args.incremental === true,
      blocksWritten: result.blocksWritten,
      bytesFetched: result.bytesFetched,
    },
    () => [
      `restored backup ${m.id} of volume ${m.volume} (${formatBytes(m.size)}) to ${target}: ${result.blocksWritten} blocks written, ${formatBytes(result.bytesFetched)} fetched`,
    ],
  );
  return EXIT.ok;
}

async function runRestoreDirectory(
  args: RestoreArgs,
  ctx: CommandContext,
  store: ObjectStore,
  ref: { volume: string; id: string; target: string },
): Promise<number> {
  if (args.incremental === true) {
    await store.close();
    throw usageError('--incremental applies to block images; a directory backup is restored into an empty directory', 'drop --incremental');
  }
  const progress = ctx.progress('restore');
  const { restoreDirectory } = await import('@convoy/dirbackup');
  let r;
  try {
    r = await restoreDirectory({
      store,
      volume: ref.volume,
      id: ref.id,
      target: ref.target,
      path: args.path,
      signal: ctx.signal,
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.stop();
    await store.close();
  }
  const { manifest: m, ...counts } = r;
  ctx.out.result(
    { url: redactUrl(args.url), volume: m.volume, id: m.id, kind: 'directory', target: ref.target, path: args.path ?? null, ...counts },
    () => [
      `restored ${args.path === undefined ? 'directory backup' : JSON.stringify(args.path) + ' of backup'} ${m.id} of volume ${m.volume} to ${ref.target}: ` +
        `${r.entries} entries, ${r.files} files (${formatBytes(r.bytesWritten)}), ${formatBytes(r.bytesFetched)} fetched` +
        `${r.skipped + r.xattrsSkipped === 0 ? '' : `; skipped ${r.skipped} entries (sockets, devices when not root) and ${r.xattrsSkipped} xattrs the target refused`}`,
    ],
  );
  return EXIT.ok;
}

/**
 * The target's directory must exist. Checked here, before the store is touched: restoreBackup
 * takes its store lock before it opens the target, and an open that fails there leaves the lock
 * behind until it expires.
 */
async function checkTargetDirectory(target: string): Promise<void> {
  const dir = path.dirname(target);
  const st = await fs.stat(dir).catch(() => undefined);
  if (st === undefined || !st.isDirectory()) {
    throw new CliError('CONVOY_TARGET_INVALID', `cannot restore to ${target}: directory ${dir} does not exist`, {
      hint: 'create the directory first, or name another target',
    });
  }
}
