import { verifyStore, type VerifyResult } from '@convoy/blockstore';
import { validateVolumeName } from '@convoy/rules';
import { examples } from '@convoy/cli-kit';
import { parseStoreUrl } from '@convoy/objectstore';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export interface VerifyArgs {
  dest: string;
  volume?: string | undefined;
  'read-data'?: boolean | undefined;
}

export const verifyCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'verify <dest>',
      'Check that every object the backups need is present (and, with --read-data, intact); exit 3 if not',
      (b) =>
        b
          .positional('dest', {
            type: 'string',
            demandOption: true,
            describe: "Store URL (a backup URL's volume= narrows it to that volume)",
          })
          .option('volume', { type: 'string', requiresArg: true, describe: "Only this volume's backups" })
          .option('read-data', {
            type: 'boolean',
            default: false,
            describe: 'Download every block and check its hash (slow); default: check that each block exists',
          })
          .epilogue(
            examples([
              ['convoy-backup verify vfs:///mnt/bk', 'Every referenced block exists'],
              ['convoy-backup verify s3://bk@us-east-1/db --read-data --json', 'Read back every block; problems as JSON'],
            ]),
          ),
      (args) => select((ctx) => runVerify(args, ctx), args),
    ),
};

export async function runVerify(args: VerifyArgs, ctx: CommandContext): Promise<number> {
  const { params } = parseStoreUrl(args.dest);
  const volume = args.volume ?? params.get('volume') ?? undefined;
  if (volume !== undefined) validateVolumeName(volume);
  const store = await ctx.openStore(args.dest, { create: false });
  const progress = ctx.progress('verify');
  let result: VerifyResult;
  try {
    result = await verifyStore({
      store,
      volume,
      readData: args['read-data'] === true,
      signal: ctx.signal,
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.stop();
    await store.close();
  }
  const checked = `${result.backupsChecked} backups, ${result.blocksChecked} blocks${result.dataChecked ? ' (data read back)' : ''}`;
  const note = result.dataChecked ? '' : ' (only existence checked: contents not read; use --read-data)';
  const repairable = result.problems.some((p) => p.kind === 'missing' || p.kind === 'corrupt');
  ctx.out.result(result, () =>
    result.ok
      ? [`ok: ${checked} checked, no problems${note}`]
      : [
          ...result.problems.map(
            (p) => `${p.kind} ${p.key}: ${p.message}; needed by ${p.backups.length === 0 ? '(no backup)' : p.backups.join(', ')}`,
          ),
          `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${checked}${note}`,
          ...(repairable ? ['blocks can be written again from a copy of the volume: convoy-backup repair STORE --source FILE'] : []),
          ...(result.problems.some((p) => p.kind === 'index')
            ? ['the reference index is damaged: nothing is deleted until `convoy-backup maintenance STORE --rebuild-index` rebuilds it']
            : []),
        ],
  );
  return result.ok ? EXIT.ok : EXIT.problems;
}
