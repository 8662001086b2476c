import { examples, EXIT } from '@convoy/cli-kit';
import { checkName } from '../args.js';
import type { CliCommand, CommandContext } from '../context.js';

export interface DeleteArgs {
  name: string;
  reference?: boolean | undefined;
  force?: boolean | undefined;
}

export const deleteCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'delete <name>',
      'Delete a volume and its data',
      (b) =>
        b
          .positional('name', { type: 'string', demandOption: true, describe: 'Volume name' })
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
              ['convoy delete -r db', 'Forget db but keep its data'],
              ['convoy delete db --force', 'Delete although another host still references it'],
            ]),
          ),
      (args) => select((ctx) => runDelete(args, ctx), args),
    ),
};

export async function runDelete(args: DeleteArgs, ctx: CommandContext): Promise<number> {
  const name = checkName('volume', args.name);
  await ctx.client().deleteVolume(name, { force: args.force === true, reference: args.reference === true, signal: ctx.signal });
  ctx.out.result({ volume: name, deleted: true, dataKept: args.reference === true }, () => []);
  return EXIT.ok;
}
