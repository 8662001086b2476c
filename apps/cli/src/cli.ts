import { Output, programParser, progressTo, reportError, runCommand, selectCommand, withCommands } from '@convoy/cli-kit';
import { ControlClient, DEFAULT_CONTROL_SOCKET } from '@convoy/control-api';
import type { Argv } from 'yargs';
import { backupCommand } from './commands/backup.js';
import { createCommand } from './commands/create.js';
import { daemonCommand } from './commands/daemon.js';
import { deleteCommand } from './commands/delete.js';
import { infoCommand } from './commands/info.js';
import { inspectCommand } from './commands/inspect.js';
import { listCommand } from './commands/list.js';
import { mountCommand, umountCommand } from './commands/mount.js';
import { snapshotCommand } from './commands/snapshot.js';
import type { CliCommand, CliIo, CommandContext, GlobalOptions, Select } from './context.js';
import { runDaemon } from './daemon.js';
import { PROGRAM } from './program.js';

export type { CliIo } from './context.js';
export { EXIT } from '@convoy/cli-kit';
export { resolveDaemon, type DaemonLaunch } from './daemon.js';

const COMMANDS: readonly CliCommand[] = [
  daemonCommand,
  infoCommand,
  createCommand,
  deleteCommand,
  mountCommand,
  umountCommand,
  listCommand,
  inspectCommand,
  snapshotCommand,
  backupCommand,
];

/**
 * Runs convoy with `argv` (without node and the script) and resolves to the exit code:
 * 0 ok, 1 failed, 2 usage error, 130 interrupted (EXIT). Never throws and never exits the
 * process: main.ts does that, tests call this in-process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv[0] === 'daemon') return runDaemonCommand(argv.slice(1), io);
  const selected = await selectCommand(PROGRAM, io, argv, (select: Select) => buildParser(io, select));
  if (typeof selected === 'number') return selected;
  const globals = globalsOf(selected.args, io);
  const out = new Output(io, { program: PROGRAM.name, json: globals.json });
  let client: ControlClient | undefined;
  const ctx: CommandContext = {
    io,
    globals,
    out,
    signal: io.signal,
    client: () => (client ??= new ControlClient({ socketPath: globals.socket, userAgent: `convoy/${PROGRAM.version}` })),
    progress: progressTo(io, globals, { showPhase: true }),
  };
  try {
    return await runCommand(PROGRAM, out, io.signal, () => selected.run(ctx));
  } finally {
    await client?.close().catch(() => undefined);
  }
}

async function runDaemonCommand(args: readonly string[], io: CliIo): Promise<number> {
  try {
    return await runDaemon(args, io);
  } catch (err) {
    return reportError(PROGRAM, new Output(io, { program: PROGRAM.name, json: false }), err);
  }
}

function buildParser(io: CliIo, select: Select): Argv {
  const envSocket = io.env.CONVOY_SOCKET;
  const y = programParser(PROGRAM, "Drive convoy-daemon: volumes, snapshots and backups (Rancher Convoy's commands).")
    .option('socket', {
      type: 'string',
      requiresArg: true,
      global: true,
      default: envSocket !== undefined && envSocket !== '' ? envSocket : DEFAULT_CONTROL_SOCKET,
      defaultDescription: `$CONVOY_SOCKET, else ${DEFAULT_CONTROL_SOCKET}`,
      describe: "The daemon's control socket",
    })
    .option('json', {
      type: 'boolean',
      default: false,
      global: true,
      describe: 'Machine-readable output: one JSON value as the last line of stdout (errors too); progress as JSON lines on stderr',
    })
    .epilogue(
      'Examples:\n  $ convoy create db --size 10G\n  $ convoy snapshot create db --name nightly-1\n  $ convoy backup create nightly-1 --dest s3://bk@us-east-1/db\n\n' +
        'Exit codes: 0 ok, 1 operation failed, 2 usage error (bad flags, names, URLs), 130 interrupted (Ctrl-C).',
    );
  return withCommands(y, PROGRAM, COMMANDS, select);
}

function globalsOf(args: Readonly<Record<string, unknown>>, io: CliIo): GlobalOptions {
  const socket = typeof args.socket === 'string' && args.socket !== '' ? args.socket : (io.env.CONVOY_SOCKET ?? DEFAULT_CONTROL_SOCKET);
  return { json: args.json === true, socket };
}
