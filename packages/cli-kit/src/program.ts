// The skeleton both CLIs' runCli share: a yargs parser whose command handlers only record the
// selection, parsing that renders help and version but never exits or prints, usage errors with
// a `--help` hint, and running the selected command with failures and interruptions mapped to
// exit codes. What differs between the CLIs is said once, in their CliProgram.
import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { singleValues } from './args.js';
import { EXIT, InterruptedError, exitCodeFor, usageError } from './errors.js';
import type { CliCommand, CliIo, CommandRun, Select } from './io.js';
import { Output, describeError } from './output.js';

/** One CLI, as the functions here run it. */
export interface CliProgram {
  /** The command's name (`convoy-backup`): its usage line, `<name>: message` errors, `run "<name> --help"` hints. */
  readonly name: string;
  /** The version --version prints (packageVersion). */
  readonly version: string;
  /** The command words: `name a command: …` lists them, and a usage hint names the ones given. */
  readonly commands: readonly string[];
  /** How many command words a usage hint names at most: 2 gives `run "convoy backup create --help"` (default 1). */
  readonly hintDepth?: number;
  /** Options that may be given more than once (`--label`); any other given twice is a usage error. */
  readonly repeatable: readonly string[];
  /** Describes a `completion` command (a bash/zsh completion script); without it there is none. */
  readonly completion?: string;
  /** Say which word is not a command before yargs' "Did you mean …?" (default: yargs' words alone). */
  readonly explainUnknownCommand?: boolean;
  /** The CLI's InterruptedError: what main.ts aborts with, and what an abort without one is reported as. */
  interrupted(signal: string, exitCode: number): InterruptedError;
}

/**
 * The version in the package.json at `url` (a CLI passes `new URL('../package.json',
 * import.meta.url)`), else in the first package.json above it that has one (the bundled CLI runs
 * from dist/bundle/, one directory deeper), else 0.0.0.
 */
export function packageVersion(url: URL): string {
  for (let at = url, up = 0; up < 3; up++, at = new URL('../package.json', new URL('.', at))) {
    let text: string;
    try {
      text = readFileSync(at, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const pkg = JSON.parse(text) as { version?: unknown };
    if (typeof pkg.version === 'string') return pkg.version;
  }
  return '0.0.0';
}

/**
 * The start of a CLI's parser: its name, `$0 <command> [options]` and `description`; numbers stay
 * strings (a volume named 007 is "007"). The CLI adds its global options and epilogue, then
 * withCommands.
 */
export function programParser(program: CliProgram, description: string): Argv {
  return yargs()
    .scriptName(program.name)
    .usage(`$0 <command> [options]\n\n${description}`)
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false });
}

/**
 * The rules every CLI parses by, then its commands: unknown options and commands are errors (with
 * a suggestion), options that are not repeatable are given once, a command is required; --help
 * (-h) and --version; English; 100 columns. yargs never exits the process: what it refuses is
 * thrown, for parseArgv's caller to report (reportUsageError).
 */
export function withCommands<Ctx>(y: Argv, program: CliProgram, commands: readonly CliCommand<Ctx>[], select: Select<Ctx>): Argv {
  let parser = y
    .strict()
    .check(singleValues(program.repeatable), true)
    .demandCommand(1, `name a command: ${program.commands.join(', ')}`)
    .recommendCommands();
  if (program.completion !== undefined) parser = parser.completion('completion', program.completion);
  parser = parser
    .help()
    .alias('help', 'h')
    .version(program.version)
    .locale('en')
    .wrap(100)
    .exitProcess(false)
    .fail((message, err) => {
      throw err ?? new Error(message ?? 'invalid command line');
    });
  for (const command of commands) parser = command.register(parser, select);
  return parser;
}

/**
 * Parses `argv` (running the selected command's handler, which only records it); resolves to the
 * help, version or completion text yargs rendered ('' when a command was selected), rejects with
 * what yargs refused.
 */
export function parseArgv(parser: Argv, argv: readonly string[], program: CliProgram): Promise<string> {
  // A completion script asks `<name> --get-yargs-completions <name> <words>`: yargs then calls back
  // twice, the completions (if any) coming in the second call.
  const completing = program.completion !== undefined && argv.includes('--get-yargs-completions');
  let calls = 0;
  return new Promise((resolve, reject) => {
    if (completing) setTimeout(() => resolve(''), 2_000).unref();
    void parser.parse([...argv], {}, (err: Error | undefined, _args: unknown, output: string) => {
      calls++;
      if (err) reject(err);
      else if (!completing || output !== '' || calls >= 2) resolve(output);
    });
  });
}

/**
 * A command line yargs refused: prints the usage error with a `run "<name> <command> --help"` hint
 * (as JSON when --json is anywhere in `argv`); resolves to exit code 2.
 */
export function reportUsageError(program: CliProgram, io: CliIo, argv: readonly string[], err: unknown): number {
  const command = argv
    .filter((a) => program.commands.includes(a))
    .slice(0, program.hintDepth ?? 1)
    .join(' ');
  let message = (err as Error).message;
  // yargs' suggestion alone ("Did you mean list?") does not say what was wrong
  if (program.explainUnknownCommand === true && message.startsWith('Did you mean')) {
    message = `unknown command ${JSON.stringify(argv.find((a) => !a.startsWith('-')) ?? '')}. ${message}`;
  }
  const out = new Output(io, { program: program.name, json: argv.includes('--json') });
  out.error(describeError(usageError(message, `run "${program.name} ${command === '' ? '' : `${command} `}--help"`), program.name));
  return EXIT.usage;
}

/** The command yargs selected: its run function and the parsed arguments (global options too). */
export interface Selection<Ctx> {
  run: CommandRun<Ctx>;
  args: Readonly<Record<string, unknown>>;
}

/**
 * Builds the parser (`parser(select)`) and parses `argv`: resolves to the selected command, or to
 * the exit code when there is none to run — 0 after printing the help, version or completion
 * yargs rendered, 2 after reporting a command line yargs refused (reportUsageError).
 */
export async function selectCommand<Ctx>(
  program: CliProgram,
  io: CliIo,
  argv: readonly string[],
  parser: (select: Select<Ctx>) => Argv,
): Promise<Selection<Ctx> | number> {
  let selected: Selection<Ctx> | undefined;
  const y = parser((run, args) => {
    selected = { run, args };
  });
  let help: string;
  try {
    help = await parseArgv(y, argv, program);
  } catch (err) {
    return reportUsageError(program, io, argv, err);
  }
  if (selected === undefined) {
    // --help, --version or completion: yargs rendered it
    if (help !== '') io.stdout.write(`${help}\n`);
    return EXIT.ok;
  }
  return selected;
}

/** Prints a failure (code, message and hint; URLs redacted) and returns its exit code (exitCodeFor: the error-code registry's). */
export function reportError(program: CliProgram, out: Output, err: unknown): number {
  out.error(describeError(err, program.name));
  return exitCodeFor(err);
}

/**
 * Runs the selected command and resolves to its exit code; never throws. A failure is reported
 * (reportError); after `signal` was aborted, the abort reason main.ts gave (the CLI's
 * InterruptedError) is reported instead, with its exit code (130 for SIGINT, 143 for SIGTERM).
 */
export async function runCommand(
  program: CliProgram,
  out: Output,
  signal: AbortSignal | undefined,
  run: () => Promise<number>,
): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (signal?.aborted === true) {
      const reason: unknown = signal.reason;
      const interrupted = reason instanceof InterruptedError ? reason : program.interrupted('an abort request', EXIT.interrupted);
      out.error(describeError(interrupted, program.name));
      return interrupted.exitCode;
    }
    return reportError(program, out, err);
  }
}
