import type { Argv } from 'yargs';
import type { ObjectStore } from '@convoy/objectstore';
import type { Output } from './output.js';
import type { ProgressReporter } from './progress.js';

/** Where a run of the CLI reads its environment and writes its output (main.ts: the process's). */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Whether stderr is a terminal: progress bars are drawn only then. */
  isTTY: boolean;
  /** AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, … are read from here. */
  env: Readonly<Record<string, string | undefined>>;
  /** Aborts the running command; main.ts fires it on SIGINT / SIGTERM. */
  signal?: AbortSignal;
  /** Milliseconds clock for progress rates (tests inject one). */
  now?: () => number;
}

/** Options every command accepts. */
export interface GlobalOptions {
  json: boolean;
  quiet: boolean;
  s3Endpoint: string | undefined;
}

/** What a command's `run` gets. */
export interface CommandContext {
  io: CliIo;
  globals: GlobalOptions;
  out: Output;
  signal: AbortSignal | undefined;
  /** A progress display for one long operation (a bar, JSON lines, or nothing). */
  progress(label: string): ProgressReporter;
  /**
   * Opens the store a URL names. `create: false` (every command but `create`) refuses a vfs
   * directory that does not exist instead of creating it.
   */
  openStore(url: string, options: { create: boolean }): Promise<ObjectStore>;
}

/** A command's run function: resolves to the exit code, throws on failure. */
export type CommandRun = (ctx: CommandContext) => Promise<number>;

/**
 * One subcommand: registers its syntax, options, help and examples; when invoked, its handler
 * passes its run function and the parsed arguments (with the global options) to `select`.
 */
export interface CliCommand {
  register(y: Argv, select: (run: CommandRun, args: Readonly<Record<string, unknown>>) => void): Argv;
}
