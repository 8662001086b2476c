import { EXIT as CLI_EXIT, InterruptedError as CliInterruptedError } from '@convoy/cli-kit';

/**
 * Exit codes of convoy-backup (README.md, "Exit codes"): the registry's (docs/errors.md), where
 * `problems` — `verify` found missing or corrupt objects, `repair` left some backups damaged — is
 * the "corrupt" exit code, the one a command that meets damaged stored data ends with.
 */
export const EXIT = {
  ...CLI_EXIT,
  problems: CLI_EXIT.corrupt,
} as const;

/** The abort reason main.ts gives the AbortController when a signal arrives. */
export class InterruptedError extends CliInterruptedError {
  constructor(signal: string, exitCode: number) {
    super(signal, exitCode, {
      message: 'stopped before committing anything, the store is consistent',
      hint: 'run the command again; blocks already uploaded are reused',
    });
  }
}
