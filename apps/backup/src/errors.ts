import { EXIT as CLI_EXIT, InterruptedError as CliInterruptedError } from '@convoy/cli-kit';

/** Exit codes of convoy-backup (README.md, "Exit codes"): @convoy/cli-kit's, and 3 from `verify` and `repair`. */
export const EXIT = {
  ...CLI_EXIT,
  /** `verify` found missing or corrupt objects; `repair` left some backups damaged. */
  problems: 3,
} as const;

/** The abort reason main.ts gives the AbortController when a signal arrives. */
export class InterruptedError extends CliInterruptedError {
  constructor(signal: string, exitCode: number) {
    super(signal, exitCode, { message: 'stopped before committing anything, the store is consistent', hint: 'run the command again; blocks already uploaded are reused' });
  }
}
