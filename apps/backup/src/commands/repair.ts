import path from 'node:path';
import { blockKey, FileSource, repairStore, type RepairResult } from '@convoy/blockstore';
import { validateVolumeName } from '@convoy/rules';
import { examples } from '@convoy/cli-kit';
import { redactUrl } from '@convoy/errors';
import { parseStoreUrl } from '@convoy/objectstore';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export interface RepairArgs {
  dest: string;
  source: string;
  volume?: string | undefined;
  'read-data'?: boolean | undefined;
}

export const repairCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'repair <dest>',
      'Rewrite missing or corrupt blocks from a file or device that still holds their content; exit 3 if some backups stay damaged',
      (b) =>
        b
          .positional('dest', {
            type: 'string',
            demandOption: true,
            describe: "Store URL (a backup URL's volume= narrows it to that volume)",
          })
          .option('source', {
            type: 'string',
            demandOption: true,
            requiresArg: true,
            describe: 'File or block device with the content: the volume, a snapshot of it, a restored copy. Only read',
          })
          .option('volume', {
            type: 'string',
            requiresArg: true,
            describe: "Only this volume's backups (default: every backup in the store)",
          })
          .option('read-data', {
            type: 'boolean',
            default: false,
            describe:
              'Download every block and check its hash, to find corrupt blocks too (slow); default: missing blocks and those `verify --read-data` marked damaged',
          })
          .epilogue(
            'Each damaged block is looked for where a backup had it in the volume, then anywhere in the source (one pass, ' +
              'in block-size steps). Blocks whose content matches are written again; the others are listed with the backups that need them.\n\n' +
              examples([
                [
                  'convoy-backup repair vfs:///mnt/bk --source /dev/vg0/db-snap --volume db',
                  "Put back the blocks of db's backups that verify found missing",
                ],
                [
                  'convoy-backup repair s3://bk@us-east-1/vm --source vm1.img --read-data --json',
                  'Also find and rewrite corrupt blocks; the result as JSON',
                ],
              ]),
          ),
      (args) => select((ctx) => runRepair(args, ctx), args),
    ),
};

export async function runRepair(args: RepairArgs, ctx: CommandContext): Promise<number> {
  const { params } = parseStoreUrl(args.dest);
  const volume = args.volume ?? params.get('volume') ?? undefined;
  if (volume !== undefined) validateVolumeName(volume);
  const source = await FileSource.open(path.resolve(args.source));
  let result: RepairResult;
  try {
    const store = await ctx.openStore(args.dest, { create: false });
    const progress = ctx.progress('repair');
    try {
      result = await repairStore({
        store,
        source,
        readData: args['read-data'] === true,
        volume,
        signal: ctx.signal,
        onProgress: (p) => progress.update(p),
      });
    } finally {
      progress.stop();
      await store.close();
    }
  } finally {
    await source.close();
  }
  ctx.out.result(result, () => describe(result, redactUrl(args.dest), source.path));
  return result.stillDamaged.length === 0 ? EXIT.ok : EXIT.problems;
}

function describe(r: RepairResult, url: string, source: string): string[] {
  const checked = `${r.blocksChecked} block${r.blocksChecked === 1 ? '' : 's'} checked${r.dataChecked ? ' (data read back)' : ' (contents not read; use --read-data to find corrupt blocks too)'}`;
  const lines: string[] = [];
  if (r.repaired.length > 0)
    lines.push(
      `repaired ${r.repaired.length} block${r.repaired.length === 1 ? '' : 's'} of ${url} from ${source}:`,
      ...r.repaired.map((id) => `  ${blockKey(id)}`),
    );
  for (const d of r.stillDamaged) {
    lines.push(
      d.error === undefined
        ? `still damaged: backup ${d.backup} needs ${d.blocks} missing or corrupt block${d.blocks === 1 ? '' : 's'} that ${source} does not hold`
        : `still damaged: backup ${d.backup}: ${d.error}`,
    );
  }
  if (r.stillDamaged.length > 0) {
    lines.push(
      `${r.stillDamaged.length} backup${r.stillDamaged.length === 1 ? '' : 's'} still damaged; ${checked}`,
      'run repair again with another --source that holds the content, or delete those backups (convoy-backup delete)',
    );
  } else lines.push(r.repaired.length > 0 ? `ok: every backup is complete again; ${checked}` : `ok: nothing to repair; ${checked}`);
  return lines;
}
