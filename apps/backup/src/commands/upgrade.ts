import { upgradeStore, type UpgradeResult } from '@convoy/blockstore';
import { examples } from '@convoy/cli-kit';
import { redactUrl } from '@convoy/errors';
import { parseStoreUrl } from '@convoy/objectstore';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export interface UpgradeArgs {
  dest: string;
}

export const upgradeCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'upgrade <dest>',
      'Convert a format v1 store to format v2 (deletes in constant time, garbage collected by maintenance); once per store',
      (b) =>
        b
          .positional('dest', { type: 'string', demandOption: true, describe: 'Store URL: vfs:///abs/path or s3://bucket@region/prefix' })
          .epilogue(
            "Reads every manifest and block map once, under the store's exclusive lock (backups and deletes of format v1 " +
              'programs wait). Afterwards only programs that know format v2 use the store, and blocks are freed by ' +
              '`convoy-backup maintenance --full` instead of by delete. Running it again is harmless.\n\n' +
              examples([
                ['convoy-backup upgrade vfs:///mnt/bk', 'Upgrade a directory store'],
                [
                  'convoy-backup upgrade s3://bk@us-east-1/db --json',
                  'Upgrade an S3 store; {"from","to","backups","unreadable"} as the last line',
                ],
                ['convoy-backup maintenance s3://bk@us-east-1/db', 'Then merge the references it recorded'],
              ]),
          ),
      (args) => select((ctx) => runUpgrade(args, ctx), args),
    ),
};

export async function runUpgrade(args: UpgradeArgs, ctx: CommandContext): Promise<number> {
  parseStoreUrl(args.dest);
  const store = await ctx.openStore(args.dest, { create: false });
  const progress = ctx.progress('upgrade');
  let result: UpgradeResult;
  try {
    result = await upgradeStore({ store, signal: ctx.signal, onProgress: (p) => progress.update(p) });
  } finally {
    progress.stop();
    await store.close();
  }
  const url = redactUrl(args.dest);
  ctx.out.result({ url, ...result }, () => {
    if (result.from === result.to) return [`${url} is already format v${result.to}: nothing to do`];
    const lines = [
      `upgraded ${url} from format v${result.from} to v${result.to}: recorded the references of ${result.backups} backup${result.backups === 1 ? '' : 's'}`,
      'next: `convoy-backup maintenance` merges them; from now on `convoy-backup maintenance --full` frees the blocks of deleted backups',
    ];
    if (result.unreadable.length > 0) {
      lines.push(
        `${result.unreadable.length} backup${result.unreadable.length === 1 ? '' : 's'} could not be read, so the blocks they use are not recorded as in use; ` +
          'check them with `convoy-backup verify` before running `convoy-backup maintenance --full`:',
        ...result.unreadable.map((u) => `  ${u}`),
      );
    }
    return lines;
  });
  return EXIT.ok;
}
