import { examples, EXIT } from '@convoy/cli-kit';
import { checkName } from '../args.js';
import type { CliCommand, CommandContext } from '../context.js';

export interface DeleteArgs {
  /** One or more volumes (Convoy took several). */
  names: string | string[];
  reference?: boolean | undefined;
  force?: boolean | undefined;
}

export const deleteCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'delete <names..>',
      'Delete volumes and their data',
      (b) =>
        b
          .positional('names', { type: 'string', array: true, demandOption: true, describe: 'Volume names (one or more)' })
          .option('reference', {
            alias: 'r',
            type: 'boolean',
            default: false,
            describe: 'Only delete the reference: the daemon forgets the volume, its data is kept',
          })
          .option('force', {
            type: 'boolean',
            default: false,
            describe: 'Delete even while Docker on another host still references the volume (never while one mounts it)',
          })
          .epilogue(
            examples([
              ['convoy delete db', 'Delete volume db and its data'],
              ['convoy delete db1 db2 db3', 'Delete several, in order; each one that fails is reported, the others go on'],
              ['convoy delete -r db', 'Forget db but keep its data'],
              ['convoy delete db --force', 'Delete although another host still references it'],
            ]),
          ),
      (args) => select((ctx) => runDelete(args, ctx), args),
    ),
};

/**
 * Deletes each volume in order. Every name is checked before anything is deleted. A failure does
 * not stop the others (as Convoy's loop did not), and the first failure ends the run, after the
 * rest. One name prints `{volume, deleted, dataKept}` with --json; several print an array of them.
 */
export async function runDelete(args: DeleteArgs, ctx: CommandContext): Promise<number> {
  const names = (Array.isArray(args.names) ? args.names : [args.names]).map((n) => checkName('volume', n));
  const dataKept = args.reference === true;
  const done: { volume: string; deleted: true; dataKept: boolean }[] = [];
  let failure: unknown;
  for (const name of names) {
    try {
      await ctx.client().deleteVolume(name, { force: args.force === true, reference: dataKept, signal: ctx.signal });
      done.push({ volume: name, deleted: true, dataKept });
      if (names.length > 1) ctx.out.info(`deleted ${name}`);
    } catch (err) {
      if (ctx.signal?.aborted === true) throw err;
      failure ??= err;
      if (names.length > 1) ctx.out.info(`not deleted: ${name}`);
    }
  }
  if (failure !== undefined) throw failure;
  ctx.out.result(names.length === 1 ? done[0] : done, () => []);
  return EXIT.ok;
}
