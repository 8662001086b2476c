import { examples, formatSize, formatTable, formatTime } from '@convoy/cli-kit';
import type { ApiError, Volume } from '@convoy/control-api';
import type { CliCommand, CommandContext } from '../context.js';
import { reportProblems } from '../output.js';

export interface ListArgs {
  driver?: string | undefined;
}

export const listCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'list',
      'List volumes',
      (b) =>
        b.option('driver', { type: 'string', requiresArg: true, describe: 'Only volumes of this driver' }).epilogue(
          examples([
            ['convoy list', 'Every volume, as a table'],
            ['convoy list --driver vfs', 'Only vfs volumes'],
            ['convoy list --json', 'A JSON array of volumes'],
          ]),
        ),
      (args) => select((ctx) => runList(args, ctx), args),
    ),
};

export async function runList(args: ListArgs, ctx: CommandContext): Promise<number> {
  const problems: ApiError[] = [];
  const all = await ctx.client().listVolumes({ signal: ctx.signal, onProblem: (p) => problems.push(p) });
  const volumes = (args.driver === undefined ? all : all.filter((v) => v.driver === args.driver)).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  ctx.out.result(volumes, () =>
    volumes.length === 0 ? [args.driver === undefined ? 'no volumes' : `no ${args.driver} volumes`] : volumeTable(volumes),
  );
  return reportProblems(ctx, problems);
}

function volumeTable(volumes: readonly Volume[]): string[] {
  return formatTable(
    ['NAME', 'DRIVER', 'SIZE', 'MOUNTPOINT', 'MOUNTED BY', 'CREATED', 'UUID'],
    volumes.map((v) => [
      v.state === 'creating' ? `${v.name} (creating)` : v.name,
      v.driver,
      formatSize(v.size),
      v.mountpoint ?? '-',
      (v.mountedBy ?? []).length === 0 ? '-' : v.mountedBy.join(','),
      formatTime(v.createdAt),
      v.uuid,
    ]),
  );
}
