import { ConvoyError, errorCode, isConvoyError, type ConvoyErrorOptions } from '@convoy/errors';

/** Exit codes of convoy-backup (README.md, "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** An operation failed (store unreachable, backup not found, I/O error, …). */
  failed: 1,
  /** The command line was wrong: unknown flag, bad URL, bad volume name, bad value. */
  usage: 2,
  /** `verify` found missing or corrupt objects. */
  problems: 3,
  /** Interrupted by SIGINT (128 + 2). */
  interrupted: 130,
} as const;

/** An error raised by the CLI itself (not by a library). */
export class CliError extends ConvoyError {
  constructor(code: string, message: string, options: ConvoyErrorOptions = {}) {
    super(code, message, options);
  }
}

export const usageError = (message: string, hint?: string): CliError =>
  new CliError('CONVOY_USAGE', message, hint === undefined ? {} : { hint });

/** The abort reason main.ts gives the AbortController when a signal arrives. */
export class InterruptedError extends CliError {
  readonly exitCode: number;
  constructor(signal: string, exitCode: number) {
    super('CONVOY_ABORTED', `interrupted by ${signal}; stopped before committing anything, the store is consistent`, {
      hint: 'run the command again; blocks already uploaded are reused',
    });
    this.exitCode = exitCode;
  }
}

// Codes that mean "the command line asked for something invalid" rather than "the work failed".
const USAGE_CODES = new Set(['CONVOY_USAGE', 'CONVOY_INVALID_ARGUMENT', 'CONVOY_STORE_URL_INVALID']);

export function exitCodeFor(err: unknown): number {
  const code = errorCode(err);
  return isConvoyError(err) && code !== undefined && USAGE_CODES.has(code) ? EXIT.usage : EXIT.failed;
}
