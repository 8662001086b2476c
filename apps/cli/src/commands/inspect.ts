import { examples, EXIT } from '@convoy/cli-kit';
import { checkName } from '../args.js';
import type { CliCommand, CommandContext } from '../context.js';

export const inspectCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'inspect <name>',
      'Show a volume as JSON (by name or a unique UUID prefix)',
      (b) =>
        b.positional('name', { type: 'string', demandOption: true, describe: 'Volume name or UUID prefix' }).epilogue(
          examples([
            ['convoy inspect db', 'Volume db as indented JSON'],
            ['convoy inspect 0b5c6a', 'The volume whose UUID starts with 0b5c6a'],
            ['convoy inspect db --json', 'On one line'],
          ]),
        ),
      (args) => select((ctx) => runInspect(args, ctx), args),
    ),
};

export async function runInspect(args: { name: string }, ctx: CommandContext): Promise<number> {
  const volume = await ctx.client().getVolume(checkName('volume', args.name), { signal: ctx.signal });
  ctx.out.result(volume, () => prettyJson(volume));
  return EXIT.ok;
}

/** JSON as Convoy's inspect printed it: indented, one value. */
export function prettyJson(value: unknown): string[] {
  return JSON.stringify(value, null, 2).split('\n');
}
