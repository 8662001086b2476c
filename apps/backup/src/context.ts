import type { CliIo, CliCommand as KitCliCommand, CommandRun as KitCommandRun, Output, ProgressReporter } from '@convoy/cli-kit';
import type { ObjectStore } from '@convoy/objectstore';

// Where a run of the CLI reads its environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, …) and writes its output.
export type { CliIo } from '@convoy/cli-kit';

/** Options every command accepts. */
export interface GlobalOptions {
  json: boolean;
  quiet: boolean;
  s3Endpoint: string | undefined;
  /** --password-file: the passphrase of an encrypted store. */
  passwordFile: string | undefined;
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
   * Opens the store a URL names, and unlocks it with the passphrase (--password-file,
   * CONVOY_PASSWORD, or the terminal) when it is encrypted. `create: false` (every command but
   * `create`) refuses a vfs directory that does not exist instead of creating it. `locked: true`
   * skips the unlocking (init, and key commands that read key files only).
   */
  openStore(url: string, options: { create: boolean; locked?: boolean }): Promise<ObjectStore>;
}

/** A command's run function: resolves to the exit code, throws on failure. */
export type CommandRun = KitCommandRun<CommandContext>;

/**
 * One subcommand: registers its syntax, options, help and examples; when invoked, its handler
 * passes its run function and the parsed arguments (with the global options) to `select`.
 */
export type CliCommand = KitCliCommand<CommandContext>;
