import { ConvoyError, errorCode, isConvoyError, type ConvoyErrorOptions } from '@convoy/errors';

/** The exit codes every Convoy CLI uses (each README's "Exit codes"); a CLI may add its own (convoy-backup: 3). */
export const EXIT = {
  ok: 0,
  /** The operation failed (unreachable, not found, in use, an I/O error, …). */
  failed: 1,
  /** The command line was wrong: unknown flag, missing argument, a bad name, URL or value. */
  usage: 2,
  /** Interrupted by SIGINT (128 + 2); SIGTERM gives 143. */
  interrupted: 130,
} as const;

/** An error raised by a CLI itself (not by a library or the daemon). */
export class CliError extends ConvoyError {
  constructor(code: string, message: string, options: ConvoyErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A command line that asks for something invalid (CONVOY_USAGE: exit 2). */
export const usageError = (message: string, hint?: string): CliError =>
  new CliError('CONVOY_USAGE', message, hint === undefined ? {} : { hint });

/** What an interruption leaves behind, in a CLI's own words. */
export interface InterruptedOutcome {
  /** Follows "interrupted by SIGINT; ". */
  message: string;
  hint: string;
}

/**
 * The abort reason main.ts gives the AbortController when a signal arrives (see abortOnSignals).
 * Each CLI subclasses it with its outcome, so `new InterruptedError(signal, exitCode)` works there.
 */
export class InterruptedError extends CliError {
  readonly exitCode: number;
  readonly signal: string;
  constructor(signal: string, exitCode: number, outcome: InterruptedOutcome) {
    super('CONVOY_ABORTED', `interrupted by ${signal}; ${outcome.message}`, { hint: outcome.hint });
    this.signal = signal;
    this.exitCode = exitCode;
  }
}

/** Which error codes mean "the command line asked for something invalid" rather than "the work failed". */
export interface UsageCodes {
  /** Codes besides CONVOY_USAGE (always one) that exit 2. */
  isUsageCode(code: string): boolean;
}

/** 2 for a ConvoyError whose code is CONVOY_USAGE or one `codes` names, 1 for everything else. */
export function exitCodeFor(err: unknown, codes: UsageCodes): number {
  const code = errorCode(err);
  if (!isConvoyError(err) || code === undefined) return EXIT.failed;
  return code === 'CONVOY_USAGE' || codes.isUsageCode(code) ? EXIT.usage : EXIT.failed;
}
