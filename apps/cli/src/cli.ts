import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { ControlClient, DEFAULT_CONTROL_SOCKET } from '@convoy/control-api';
import { backupCommand } from './commands/backup.js';
import { createCommand } from './commands/create.js';
import { daemonCommand } from './commands/daemon.js';
import { deleteCommand } from './commands/delete.js';
import { infoCommand } from './commands/info.js';
import { inspectCommand } from './commands/inspect.js';
import { listCommand } from './commands/list.js';
import { mountCommand, umountCommand } from './commands/mount.js';
import { snapshotCommand } from './commands/snapshot.js';
import type { CliCommand, CliIo, CommandContext, CommandRun, GlobalOptions } from './context.js';
import { runDaemon } from './daemon.js';
import { EXIT, InterruptedError, exitCodeFor, usageError } from './errors.js';
import { Output, describeError } from './output.js';
import { createProgress, progressMode } from './progress.js';

export type { CliIo } from './context.js';
export { EXIT } from './errors.js';
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
const COMMAND_NAMES = ['daemon', 'info', 'create', 'delete', 'mount', 'umount', 'list', 'inspect', 'snapshot', 'backup', 'completion'];

/**
 * Runs convoy with `argv` (without node and the script) and resolves to the exit code:
 * 0 ok, 1 failed, 2 usage error, 130 interrupted (EXIT). Never throws and never exits the
 * process: main.ts does that, tests call this in-process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv[0] === 'daemon') return runDaemonCommand(argv.slice(1), io);
  let selected: { run: CommandRun; globals: GlobalOptions } | undefined;
  const parser = buildParser(io, (run, args) => {
    selected = { run, globals: globalsOf(args, io) };
  });
  let help: string;
  try {
    help = await parse(parser, [...argv]);
  } catch (err) {
    const command = argv.filter((a) => COMMAND_NAMES.includes(a)).slice(0, 2).join(' ');
    const out = new Output(io, { json: argv.includes('--json') });
    let message = (err as Error).message;
    // yargs' suggestion alone ("Did you mean list?") does not say what was wrong
    if (message.startsWith('Did you mean')) message = `unknown command ${JSON.stringify(argv.find((a) => !a.startsWith('-')) ?? '')}. ${message}`;
    out.error(describeError(usageError(message, `run "convoy ${command === '' ? '' : `${command} `}--help"`)));
    return EXIT.usage;
  }
  if (selected === undefined) {
    // --help, --version or completion: yargs rendered it
    if (help !== '') io.stdout.write(`${help}\n`);
    return EXIT.ok;
  }
  const { run, globals } = selected;
  const out = new Output(io, globals);
  let client: ControlClient | undefined;
  const ctx: CommandContext = {
    io,
    globals,
    out,
    signal: io.signal,
    client: () => (client ??= new ControlClient({ socketPath: globals.socket, userAgent: `convoy/${packageVersion()}` })),
    progress: (label) => createProgress(progressMode({ json: globals.json, isTTY: io.isTTY }), io.stderr, { label, ...(io.now === undefined ? {} : { now: io.now }) }),
  };
  try {
    return await run(ctx);
  } catch (err) {
    if (io.signal?.aborted === true) {
      const reason: unknown = io.signal.reason;
      const interrupted = reason instanceof InterruptedError ? reason : new InterruptedError('an abort request', EXIT.interrupted);
      out.error(describeError(interrupted));
      return interrupted.exitCode;
    }
    out.error(describeError(err));
    return exitCodeFor(err);
  } finally {
    await client?.close().catch(() => undefined);
  }
}

async function runDaemonCommand(args: readonly string[], io: CliIo): Promise<number> {
  try {
    return await runDaemon(args, io);
  } catch (err) {
    new Output(io, { json: false }).error(describeError(err));
    return exitCodeFor(err);
  }
}

function buildParser(io: CliIo, select: (run: CommandRun, args: Readonly<Record<string, unknown>>) => void): Argv {
  const envSocket = io.env.CONVOY_SOCKET;
  let y: Argv = yargs()
    .scriptName('convoy')
    .usage('$0 <command> [options]\n\nDrive convoy-daemon: volumes, snapshots and backups (Rancher Convoy\'s commands).')
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false })
    .option('socket', {
      type: 'string',
      requiresArg: true,
      global: true,
      default: envSocket !== undefined && envSocket !== '' ? envSocket : DEFAULT_CONTROL_SOCKET,
      defaultDescription: `$CONVOY_SOCKET, else ${DEFAULT_CONTROL_SOCKET}`,
      describe: 'The daemon\'s control socket',
    })
    .option('json', { type: 'boolean', default: false, global: true, describe: 'Machine-readable output: one JSON value as the last line of stdout (errors too); progress as JSON lines on stderr' })
    .epilogue(
      'Examples:\n  $ convoy create db --size 10G\n  $ convoy snapshot create db --name nightly-1\n  $ convoy backup create nightly-1 --dest s3://bk@us-east-1/db\n\n' +
        'Exit codes: 0 ok, 1 operation failed, 2 usage error (bad flags, names, URLs), 130 interrupted (Ctrl-C).',
    )
    .strict()
    .check(singleValues, true)
    .demandCommand(1, `name a command: ${COMMAND_NAMES.join(', ')}`)
    .recommendCommands()
    .completion('completion', 'Print a shell completion script (bash, zsh): convoy completion >> ~/.bashrc')
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .locale('en')
    .wrap(100)
    .exitProcess(false)
    .fail((message, err) => {
      throw err ?? new Error(message ?? 'invalid command line');
    });
  for (const command of COMMANDS) y = command.register(y, select);
  return y;
}

/** Options that are not repeatable must be given once: `--dest a --dest b` is an error, not "b". */
function singleValues(args: Readonly<Record<string, unknown>>): true {
  for (const [name, value] of Object.entries(args)) {
    if (name !== '_' && name !== 'label' && name !== 'opt' && name !== 'options' && name.length > 1 && !/[A-Z]/.test(name) && Array.isArray(value)) {
      throw new Error(`--${name} is given more than once`);
    }
  }
  return true;
}

function globalsOf(args: Readonly<Record<string, unknown>>, io: CliIo): GlobalOptions {
  const socket = typeof args.socket === 'string' && args.socket !== '' ? args.socket : (io.env.CONVOY_SOCKET ?? DEFAULT_CONTROL_SOCKET);
  return { json: args.json === true, socket };
}

/**
 * Parses (running the selected command's handler, which only records it); resolves to the
 * help, version or completion text yargs rendered.
 */
function parse(parser: Argv, argv: string[]): Promise<string> {
  // `convoy completion`'s shell script asks `convoy --get-yargs-completions convoy <words>`: yargs
  // then calls back twice, the completions (if any) coming in the second call.
  const completing = argv.includes('--get-yargs-completions');
  let calls = 0;
  return new Promise((resolve, reject) => {
    if (completing) setTimeout(() => resolve(''), 2_000).unref();
    void parser.parse(argv, {}, (err: Error | undefined, _args: unknown, output: string) => {
      calls++;
      if (err) reject(err);
      else if (!completing || output !== '' || calls >= 2) resolve(output);
    });
  });
}

function packageVersion(): string {
  // src/cli.ts and dist/cli.js both sit one level below package.json
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
