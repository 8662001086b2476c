import fs from 'node:fs/promises';
import path from 'node:path';
import { parseBackupUrl, restoreBackup, type RestoreResult } from '@convoy/blockstore';
import { CliError, examples, formatBytes } from '@convoy/cli-kit';
import { redactUrl } from '@convoy/errors';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export interface RestoreArgs {
  url: string;
  target: string;
  incremental?: boolean | undefined;
}

export const restoreCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'restore <url> <target>',
      'Restore a backup into a file or block device',
      (b) =>
        b
          .positional('url', { type: 'string', demandOption: true, describe: 'Backup URL, as create prints it (…?backup=ID&volume=NAME)' })
          .positional('target', { type: 'string', demandOption: true, describe: 'File (created sparse, replaced atomically) or block device (written in place)' })
          .option('incremental', {
            type: 'boolean',
            default: false,
            describe: 'TARGET already holds an earlier state of the volume: read and hash it, fetch and write only the blocks that differ',
          })
          .epilogue(
            examples([
              ["convoy-backup restore 'vfs:///mnt/bk?backup=20261124T170000000Z-3f9a1c&volume=vm1' vm1.img", 'Restore into a new file'],
              ["convoy-backup restore 's3://bk@us-east-1/db?backup=20261124T170000000Z-3f9a1c&volume=db' /dev/sdb --incremental", 'Bring a device up to date, writing only changed blocks'],
            ]),
          ),
      (args) => select((ctx) => runRestore(args, ctx), args),
    ),
};

export async function runRestore(args: RestoreArgs, ctx: CommandContext): Promise<number> {
  const ref = parseBackupUrl(args.url);
  const target = path.resolve(args.target);
  await checkTargetDirectory(target);
  const store = await ctx.openStore(ref.storeUrl, { create: false });
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
    { url: redactUrl(args.url), volume: m.volume, id: m.id, target, size: m.size, incremental: args.incremental === true, blocksWritten: result.blocksWritten, bytesFetched: result.bytesFetched },
    () => [`restored backup ${m.id} of volume ${m.volume} (${formatBytes(m.size)}) to ${target}: ${result.blocksWritten} blocks written, ${formatBytes(result.bytesFetched)} fetched`],
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
    throw new CliError('CONVOY_TARGET_INVALID', `cannot restore to ${target}: directory ${dir} does not exist`, { hint: 'create the directory first, or name another target' });
  }
}
