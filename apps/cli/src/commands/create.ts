import { randomBytes } from 'node:crypto';
import { examples, EXIT } from '@convoy/cli-kit';
import type { Volume } from '@convoy/control-api';
import { checkName, checkSize, checkUrl, parsePairs } from '../args.js';
import type { CliCommand, CommandContext } from '../context.js';

export interface CreateArgs {
  /** Omitted: `volume-` and 8 random hex digits, as Convoy named it. */
  name?: string | undefined;
  driver?: string | undefined;
  size?: string | undefined;
  backup?: string | undefined;
  snapshot?: string | undefined;
  opt?: string[] | undefined;
}

export const createCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'create [name]',
      'Create a volume, empty or from a backup; prints its name',
      (b) =>
        b
          .positional('name', { type: 'string', describe: 'Volume name: 1-128 of A-Z a-z 0-9 _ . - (default: volume-<8 hex digits>)' })
          .option('driver', {
            type: 'string',
            requiresArg: true,
            describe:
              "Driver (default: the snapshot's or backup's driver when it is one of the daemon's, else the daemon's default, `convoy info`)",
          })
          .option('size', { type: 'string', requiresArg: true, describe: 'Size for drivers that take one: 10G, 512M or bytes' })
          .option('backup', { type: 'string', requiresArg: true, describe: 'Create the volume from this backup URL (shows progress)' })
          .option('snapshot', {
            type: 'string',
            requiresArg: true,
            conflicts: 'backup',
            describe: 'Create the volume as a copy of this snapshot (a thin clone on devicemapper, a reflink or copy on vfs)',
          })
          .option('opt', {
            type: 'string',
            array: true,
            nargs: 1,
            describe: "Volume option key=value, as Docker's -o (repeatable): size, backup, snapshot, driver; others are refused",
          })
          .epilogue(
            examples([
              ['convoy create db', 'An empty volume with the default driver'],
              ['convoy create', 'An empty volume named volume-<8 hex digits>; prints the name'],
              ['convoy create db --driver devicemapper --size 20G', 'A 20 GiB thin volume'],
              ["convoy create db2 --backup 's3://bk@us-east-1/db?backup=0001&volume=db'", 'Restore a backup into a new volume'],
              ['convoy create db-test --snapshot nightly-1', 'A new volume from a snapshot'],
              ['convoy create web --opt size=1G', "Docker's -o options, as --opt (size, backup, driver)"],
              ['convoy create db --json', 'Print the volume as JSON (last line)'],
            ]),
          ),
      (args) => select((ctx) => runCreate(args, ctx), args),
    ),
};

export async function runCreate(args: CreateArgs, ctx: CommandContext): Promise<number> {
  const name = args.name === undefined ? `volume-${randomBytes(4).toString('hex')}` : checkName('volume', args.name);
  const size = checkSize(args.size);
  const backup = args.backup === undefined ? undefined : checkUrl('backup URL', args.backup, { backup: true });
  const snapshot = args.snapshot === undefined ? undefined : checkName('snapshot', args.snapshot);
  const options = parsePairs('opt', args.opt);
  const progress = backup === undefined ? undefined : ctx.progress('restore');
  let volume: Volume;
  try {
    volume = await ctx.client().createVolume(
      {
        name,
        driver: args.driver,
        size,
        backup,
        snapshot,
        options,
      },
      { signal: ctx.signal, onProgress: progress === undefined ? undefined : (p) => progress.update(p) },
    );
  } finally {
    progress?.stop();
  }
  ctx.out.result(volume, () => [volume.name]);
  return EXIT.ok;
}
