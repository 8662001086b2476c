import { examples, EXIT } from '@convoy/cli-kit';
import type { InfoResponse } from '@convoy/control-api';
import type { CliCommand, CommandContext } from '../context.js';

export const infoCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'info',
      'Show the daemon: version, host, root, drivers and their options, sockets, mounted volumes',
      (b) =>
        b.epilogue(
          examples([
            ['convoy info', 'What the daemon runs with'],
            ['convoy info --json', 'The same as one JSON object'],
            ['convoy --socket /run/convoy-test.sock info', 'Ask a daemon on another socket'],
          ]),
        ),
      (args) => select((ctx) => runInfo(ctx), args),
    ),
};

export async function runInfo(ctx: CommandContext): Promise<number> {
  const info = await ctx.client().info({ signal: ctx.signal });
  ctx.out.result(info, () => infoLines(info));
  return EXIT.ok;
}

// The daemon's answer is only checked for `version`: print what is there.
function infoLines(info: InfoResponse): string[] {
  const drivers = info.drivers ?? {};
  const mounted = info.mounted ?? [];
  const lines = [
    `version:        ${info.version}`,
    `host:           ${info.host}`,
    `root:           ${info.root}`,
    `default driver: ${info.defaultDriver}`,
    `drivers:        ${Object.keys(drivers).join(', ') || '-'}`,
    `mounted:        ${mounted.length === 0 ? '-' : mounted.join(', ')}`,
  ];
  for (const [name, details] of Object.entries(drivers)) lines.push(`driver ${name}: ${JSON.stringify(details)}`);
  const general = info.general;
  if (typeof general === 'object' && general !== null) {
    lines.push('general:');
    for (const [k, v] of Object.entries(general)) lines.push(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return lines;
}
