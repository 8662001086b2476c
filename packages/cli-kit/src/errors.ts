import { ConvoyError, EXIT, exitCodeOf, isConvoyError, type ConvoyErrorOptions, type ErrorCode } from '@convoy/errors';

/** The exit codes every Convoy CLI uses: the registry's (@convoy/errors, docs/errors.md). */
export { EXIT };

/** An error raised by a CLI itself (not by a library or the daemon). */
export class CliError extends ConvoyError {
  constructor(code: ErrorCode, message: string, options: ConvoyErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A command line that asks for something invalid (CONVOY_USAGE: exit 2). */
export const usageError = (message: string, hint?: string): CliError => new CliError('CONVOY_USAGE', message, { hint });

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

/**
 * The exit code of a failure: an interruption's own (130 for SIGINT, 143 for SIGTERM), else the
 * registry's for its code's category (2 usage, 3 corrupt, 1 anything else, a non-Convoy error too).
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof InterruptedError) return err.exitCode;
  return isConvoyError(err) ? exitCodeOf(err) : EXIT.failed;
}
