import { examples, EXIT } from '@convoy/cli-kit';
import { checkMountpoint, checkName } from '../args.js';
import type { CliCommand, CommandContext } from '../context.js';

export interface MountArgs {
  name: string;
  mountpoint?: string | undefined;
}

export const mountCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'mount <name>',
      'Mount a volume; prints the mountpoint',
      (b) =>
        b
          .positional('name', { type: 'string', demandOption: true, describe: 'Volume name' })
          .option('mountpoint', {
            alias: 'm',
            type: 'string',
            requiresArg: true,
            describe: 'Where to mount it (absolute path; default: chosen by the daemon)',
          })
          .epilogue(
            examples([
              ['convoy mount db', 'Mount db where the daemon chooses'],
              ['convoy mount db --mountpoint /srv/db', 'Mount db at /srv/db'],
            ]),
          ),
      (args) => select((ctx) => runMount(args, ctx), args),
    ),
};

export const umountCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'umount <name>',
      'Unmount a volume mounted with `convoy mount`',
      (b) =>
        b
          .positional('name', { type: 'string', demandOption: true, describe: 'Volume name' })
          .epilogue(examples([['convoy umount db', 'Unmount db']])),
      (args) => select((ctx) => runUmount(args, ctx), args),
    ),
};

export async function runMount(args: MountArgs, ctx: CommandContext): Promise<number> {
  const name = checkName('volume', args.name);
  const mountpoint = checkMountpoint(args.mountpoint);
  const res = await ctx.client().mountVolume(name, { mountpoint }, { signal: ctx.signal });
  ctx.out.result({ volume: name, mountpoint: res.mountpoint }, () => [res.mountpoint]);
  return EXIT.ok;
}

export async function runUmount(args: { name: string }, ctx: CommandContext): Promise<number> {
  const name = checkName('volume', args.name);
  await ctx.client().umountVolume(name, { signal: ctx.signal });
  ctx.out.result({ volume: name, mounted: false }, () => []);
  return EXIT.ok;
}
