import { deleteBackup, parseBackupUrl, type GcResult } from '@convoy/blockstore';
import { examples } from '@convoy/cli-kit';
import { redactUrl } from '@convoy/errors';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export interface DeleteArgs {
  url: string;
}

export const deleteCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'delete <url>',
      'Delete a backup, then remove the blocks no other backup uses',
      (b) =>
        b
          .positional('url', { type: 'string', demandOption: true, describe: 'Backup URL, as create prints it' })
          .epilogue(
            examples([
              ["convoy-backup delete 'vfs:///mnt/bk?backup=20261124T170000000Z-3f9a1c&volume=vm1'", 'Delete one backup; other backups of the volume stay complete'],
            ]),
          ),
      (args) => select((ctx) => runDelete(args, ctx), args),
    ),
};

export async function runDelete(args: DeleteArgs, ctx: CommandContext): Promise<number> {
  const ref = parseBackupUrl(args.url);
  const store = await ctx.openStore(ref.storeUrl, { create: false });
  const progress = ctx.progress('gc');
  let gc: GcResult;
  try {
    gc = await deleteBackup({ store, volume: ref.volume, id: ref.id, signal: ctx.signal, onProgress: (p) => progress.update(p) });
  } finally {
    progress.stop();
    await store.close();
  }
  ctx.out.result({ url: redactUrl(args.url), volume: ref.volume, id: ref.id, deleted: true, ...gc }, () => [
    `deleted backup ${ref.id} of volume ${ref.volume}`,
    `garbage collection removed ${gc.blocksDeleted} unreferenced blocks and ${gc.blockMapsDeleted} orphan block maps; ${gc.blocksKept} blocks are still in use`,
  ]);
  return EXIT.ok;
}
