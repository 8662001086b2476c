import type {
  CliIo as KitCliIo,
  CliCommand as KitCliCommand,
  CommandRun as KitCommandRun,
  Output,
  ProgressReporter,
  Select as KitSelect,
} from '@convoy/cli-kit';
import type { ControlClient } from '@convoy/control-api';

/** Where a run of the CLI reads its environment (CONVOY_SOCKET, CONVOY_DAEMON_BIN) and writes its output. */
export interface CliIo extends KitCliIo {
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
  /** --debug: requests traced on stderr, error codes shown. */
  debug: boolean;
  /** --verbose: whole results as indented JSON. */
  verbose: boolean;
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
export type CommandRun = KitCommandRun<CommandContext>;

/** Hands the selected command's run function and parsed arguments to runCli. */
export type Select = KitSelect<CommandContext>;

/** One (sub)command: registers its syntax, options, help and examples. */
export type CliCommand = KitCliCommand<CommandContext>;
