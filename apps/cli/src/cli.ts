import { Output, programParser, progressTo, reportError, runCommand, selectCommand, withCommands } from '@convoy/cli-kit';
import { ControlClient, DEFAULT_CONTROL_SOCKET, type RequestEvent } from '@convoy/control-api';
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
  const daemonArgs = daemonArgv(argv);
  if (daemonArgs !== undefined) return runDaemonCommand(daemonArgs, io);
  const selected = await selectCommand(PROGRAM, io, argv, (select: Select) => buildParser(io, select));
  if (typeof selected === 'number') return selected;
  const globals = globalsOf(selected.args, io);
  const out = new Output(io, { program: PROGRAM.name, json: globals.json, debug: globals.debug, verbose: globals.verbose });
  let client: ControlClient | undefined;
  const ctx: CommandContext = {
    io,
    globals,
    out,
    signal: io.signal,
    client: () =>
      (client ??= new ControlClient({
        socketPath: globals.socket,
        userAgent: `convoy/${PROGRAM.version}`,
        ...(globals.debug ? { onRequest: (e: RequestEvent) => out.debug(requestLine(e, globals.socket)) } : {}),
      })),
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
      alias: 's',
      describe: "The daemon's control socket (before or after the command, as in Rancher Convoy)",
    })
    .option('debug', {
      type: 'boolean',
      alias: 'd',
      default: false,
      global: true,
      describe: 'Trace each request to the daemon on stderr, and show error codes; `convoy --debug daemon` logs at debug level',
    })
    .option('verbose', {
      type: 'boolean',
      default: false,
      global: true,
      describe: 'Print the whole result (the volume, snapshot or backup) as indented JSON instead of its name',
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
  return { json: args.json === true, socket, debug: args.debug === true, verbose: args.verbose === true };
}

const requestLine = (e: RequestEvent, socket: string): string =>
  `${e.method} ${e.path} → ${e.status ?? 'no answer'}${e.code === undefined ? '' : ` ${e.code}`} (${e.ms} ms, ${socket})`;

/**
 * `convoy [--socket S] [--debug] [--verbose] daemon [convoy-daemon flags]`: the arguments for
 * convoy-daemon (the globals given before `daemon` first), or undefined when the command is not
 * `daemon`. Everything after `daemon` goes to convoy-daemon untouched.
 */
export function daemonArgv(argv: readonly string[]): string[] | undefined {
  const forwarded: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] ?? '';
    if (a === 'daemon') return [...forwarded, ...argv.slice(i + 1)];
    if (a === '--socket' || a === '-s') {
      const value = argv[i + 1];
      if (value === undefined) return undefined;
      forwarded.push('--socket', value);
      i += 1;
    } else if (a.startsWith('--socket=')) forwarded.push('--socket', a.slice('--socket='.length));
    else if (a === '--debug' || a === '-d' || a === '--verbose') forwarded.push(a === '-d' ? '--debug' : a);
    else return undefined;
  }
  return undefined;
}
