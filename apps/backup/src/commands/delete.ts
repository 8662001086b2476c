import { deleteBackup, parseBackupUrl, type DeleteResult } from '@convoy/blockstore';
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
      'Delete a backup; its blocks are freed by `maintenance --full` (format v1 stores: at once)',
      (b) =>
        b.positional('url', { type: 'string', demandOption: true, describe: 'Backup URL, as create prints it' }).epilogue(
          'On a format v2 store a delete takes a few requests whatever the store holds and locks nothing; the blocks only ' +
            'this backup used are freed later by `convoy-backup maintenance --full`. On a format v1 store delete collects ' +
            "them itself, under the store's exclusive lock. Running delete again after an interruption finishes it.\n\n" +
            examples([
              [
                "convoy-backup delete 'vfs:///mnt/bk?backup=20261124T170000000Z-3f9a1c&volume=vm1'",
                'Delete one backup; other backups of the volume stay complete',
              ],
              ['convoy-backup maintenance vfs:///mnt/bk --full', 'Later (e.g. daily): free the blocks no backup uses any more'],
            ]),
        ),
      (args) => select((ctx) => runDelete(args, ctx), args),
    ),
};

export async function runDelete(args: DeleteArgs, ctx: CommandContext): Promise<number> {
  const ref = parseBackupUrl(args.url);
  const store = await ctx.openStore(ref.storeUrl, { create: false });
  const progress = ctx.progress('gc');
  let result: DeleteResult;
  try {
    result = await deleteBackup({ store, volume: ref.volume, id: ref.id, signal: ctx.signal, onProgress: (p) => progress.update(p) });
  } finally {
    progress.stop();
    await store.close();
  }
  ctx.out.result({ url: redactUrl(args.url), volume: ref.volume, id: ref.id, deleted: true, ...result }, () =>
    describe(result, ref.volume, ref.id),
  );
  return EXIT.ok;
}

function describe(r: DeleteResult, volume: string, id: string): string[] {
  const what = `backup ${id} of volume ${volume}`;
  if (r.collectedBy === 'delete') {
    return [
      `deleted ${what}`,
      `garbage collection removed ${r.blocksDeleted} unreferenced blocks and ${r.blockMapsDeleted} orphan block maps; ${r.blocksKept} blocks are still in use`,
    ];
  }
  return [
    r.alreadyDeleted ? `${what} was already deleted` : `deleted ${what}`,
    'blocks no other backup uses are freed by `convoy-backup maintenance --full`',
  ];
}
