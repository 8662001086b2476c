import type { Argv } from 'yargs';
import type { ControlClient } from '@convoy/control-api';
import type { Output } from './output.js';
import type { ProgressReporter } from './progress.js';

/** Where a run of the CLI reads its environment and writes its output (main.ts: the process's). */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Whether stderr is a terminal: progress bars are drawn only then. */
  isTTY: boolean;
  /** CONVOY_SOCKET and CONVOY_DAEMON_BIN are read from here. */
  env: Readonly<Record<string, string | undefined>>;
  /** Aborts the running command (closing its connection); main.ts fires it on SIGINT / SIGTERM. */
  signal?: AbortSignal;
  /** Milliseconds clock for progress rates (tests inject one). */
  now?: () => number;
  /**
   * Set by main.ts only: `convoy daemon` hands this process's stdio to convoy-daemon and forwards
   * every SIGINT / SIGTERM / SIGHUP to it. Without it (tests) the child's output is piped to
   * stdout / stderr and aborting `signal` sends it SIGTERM.
   */
  ownsProcess?: boolean;
}

/** Options every command accepts. */
export interface GlobalOptions {
  json: boolean;
  /** The daemon's control socket. */
  socket: string;
}

/** What a command's `run` gets. */
export interface CommandContext {
  io: CliIo;
  globals: GlobalOptions;
  out: Output;
  signal: AbortSignal | undefined;
  /** The control API client (created on first use, closed when the command ends). */
  client(): ControlClient;
  /** A progress display for one long operation (a bar, JSON lines, or nothing). */
  progress(label: string): ProgressReporter;
}

/** A command's run function: resolves to the exit code, throws on failure. */
export type CommandRun = (ctx: CommandContext) => Promise<number>;

/** Hands the selected command's run function and parsed arguments to runCli. */
export type Select = (run: CommandRun, args: Readonly<Record<string, unknown>>) => void;

/** One (sub)command: registers its syntax, options, help and examples. */
export interface CliCommand {
  register(y: Argv, select: Select): Argv;
}
