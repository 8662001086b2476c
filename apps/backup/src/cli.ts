import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { createCommand } from './commands/create.js';
import { deleteCommand } from './commands/delete.js';
import { inspectCommand } from './commands/inspect.js';
import { listCommand } from './commands/list.js';
import { restoreCommand } from './commands/restore.js';
import { verifyCommand } from './commands/verify.js';
import type { CliCommand, CliIo, CommandContext, CommandRun, GlobalOptions } from './context.js';
import { EXIT, InterruptedError, exitCodeFor, usageError } from './errors.js';
import { Output, describeError } from './output.js';
import { createProgress, progressMode } from './progress.js';
import { openStoreAt, s3Options } from './store.js';

export type { CliIo } from './context.js';
export { EXIT } from './errors.js';

const COMMANDS: readonly CliCommand[] = [createCommand, restoreCommand, listCommand, inspectCommand, deleteCommand, verifyCommand];
const COMMAND_NAMES = ['create', 'restore', 'list', 'inspect', 'delete', 'verify'];

/**
 * Runs convoy-backup with `argv` (without node and the script) and resolves to the exit code:
 * 0 ok, 1 failed, 2 usage error, 3 verify found problems, 130 interrupted (EXIT).
 * Never throws and never exits the process: main.ts does that, tests call this in-process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let selected: { run: CommandRun; globals: GlobalOptions } | undefined;
  const parser = buildParser((run, args) => {
    selected = { run, globals: globalsOf(args) };
  });
  let help: string;
  try {
    help = await parse(parser, [...argv]);
  } catch (err) {
    const command = argv.find((a) => COMMAND_NAMES.includes(a));
    const out = new Output(io, { json: argv.includes('--json'), quiet: false });
    out.error(describeError(usageError((err as Error).message, `run "convoy-backup ${command === undefined ? '' : `${command} `}--help"`)));
    return EXIT.usage;
  }
  if (selected === undefined) {
    // --help or --version: yargs rendered it
    if (help !== '') io.stdout.write(`${help}\n`);
    return EXIT.ok;
  }
  const { run, globals } = selected;
  const out = new Output(io, globals);
  const ctx: CommandContext = {
    io,
    globals,
    out,
    signal: io.signal,
    progress: (label) => createProgress(progressMode({ ...globals, isTTY: io.isTTY }), io.stderr, { label, ...(io.now === undefined ? {} : { now: io.now }) }),
    openStore: (url, options) => openStoreAt(url, { create: options.create, s3: s3Options(globals.s3Endpoint, io.env) }),
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
  }
}

function buildParser(select: (run: CommandRun, args: Readonly<Record<string, unknown>>) => void): Argv {
  let y: Argv = yargs()
    .scriptName('convoy-backup')
    .usage('$0 <command> [options]\n\nBack up files and block devices to a Convoy backup store (a directory or S3) and restore them; no daemon needed.')
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false })
    .option('json', { type: 'boolean', default: false, global: true, describe: 'Machine-readable output: one JSON value as the last line of stdout; progress as JSON lines on stderr' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, global: true, describe: 'Print only the result (and errors): no progress, no notes' })
    .option('s3-endpoint', { type: 'string', requiresArg: true, global: true, describe: 'S3 endpoint URL for s3:// stores (default: $AWS_ENDPOINT_URL, else AWS)' })
    .epilogue(
      'Credentials for s3:// come from the AWS SDK chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, instance roles); never put them in a URL.\n' +
        'Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 verify found problems, 130 interrupted (Ctrl-C).',
    )
    .strict()
    .check(singleValues, true)
    .demandCommand(1, `name a command: ${COMMAND_NAMES.join(', ')}`)
    .recommendCommands()
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .locale('en')
    .wrap(100)
    .exitProcess(false)
    .fail((message, err) => {
      throw err ?? new Error(message ?? 'invalid command line');
    });
  for (const command of COMMANDS) {
    y = command.register(y, select);
  }
  return y;
}

/** Options that are not repeatable must be given once: `--dest a --dest b` is an error, not "b". */
function singleValues(args: Readonly<Record<string, unknown>>): true {
  for (const [name, value] of Object.entries(args)) {
    if (name !== '_' && name !== 'label' && name.length > 1 && !/[A-Z]/.test(name) && Array.isArray(value)) {
      throw new Error(`--${name} is given more than once`);
    }
  }
  return true;
}

function globalsOf(args: Readonly<Record<string, unknown>>): GlobalOptions {
  const endpoint = args['s3-endpoint'];
  return { json: args.json === true, quiet: args.quiet === true, s3Endpoint: typeof endpoint === 'string' ? endpoint : undefined };
}

/** Parses (running the selected command's handler, which only records it); resolves to help/version text. */
function parse(parser: Argv, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    void parser.parse(argv, {}, (err: Error | undefined, _args: unknown, output: string) => {
      if (err) reject(err);
      else resolve(output);
    });
  });
}

function packageVersion(): string {
  // src/cli.ts and dist/cli.js both sit one level below package.json
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
