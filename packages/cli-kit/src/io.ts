import type { Argv } from 'yargs';

/**
 * Where a run of a CLI reads its environment and writes its output: main.ts passes the process's,
 * tests their own streams (runCli never touches `process` itself).
 */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Whether stderr is a terminal: progress bars are drawn only then. */
  isTTY: boolean;
  /** The environment the CLI reads its settings from (each CLI's README lists the variables). */
  env: Readonly<Record<string, string | undefined>>;
  /** Aborts the running command; main.ts fires it on SIGINT / SIGTERM (abortOnSignals). */
  signal?: AbortSignal;
  /** Milliseconds clock for progress rates (tests inject one). */
  now?: () => number;
  /**
   * Asks the user for a secret (a passphrase) without echoing it; present only when stdin is a
   * terminal. Commands that need a secret and have none from a file or the environment ask here.
   */
  readSecret?: (prompt: string) => Promise<string>;
}

/** A command's run function, given the CLI's own command context: resolves to the exit code, throws on failure. */
export type CommandRun<Ctx> = (ctx: Ctx) => Promise<number>;

/**
 * Hands the selected command's run function and its parsed arguments (with the global options) to
 * runCli. A command's yargs handler only calls this; runCli runs the command after parsing.
 */
export type Select<Ctx> = (run: CommandRun<Ctx>, args: Readonly<Record<string, unknown>>) => void;

/** One (sub)command: registers its syntax, options, help and examples. */
export interface CliCommand<Ctx> {
  register(y: Argv, select: Select<Ctx>): Argv;
}
