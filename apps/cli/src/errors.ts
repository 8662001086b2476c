import { ConvoyError, errorCode, isConvoyError, type ConvoyErrorOptions } from '@convoy/errors';

/** Exit codes of convoy (README.md, "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** The operation failed (daemon unreachable, volume not found, in use, …). */
  failed: 1,
  /** The command line was wrong: unknown flag, missing argument, bad name, URL or size. */
  usage: 2,
  /** Interrupted by SIGINT (128 + 2); SIGTERM gives 143. */
  interrupted: 130,
} as const;

/** An error raised by the CLI itself (not by the daemon or the client). */
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
  readonly signal: string;
  constructor(signal: string, exitCode: number) {
    super('CONVOY_ABORTED', `interrupted by ${signal}; the connection to convoy-daemon was closed, which stops the operation`, {
      hint: 'check the result with `convoy list` or `convoy snapshot list`; an interrupted backup leaves the store consistent and the next one reuses its blocks',
    });
    this.signal = signal;
    this.exitCode = exitCode;
  }
}

/**
 * 2 for errors that say the command line asked for something invalid (ours, or the daemon's
 * `*_INVALID*` codes: a bad size, an unsupported option), 1 for everything else.
 */
export function exitCodeFor(err: unknown): number {
  const code = errorCode(err);
  if (!isConvoyError(err) || code === undefined) return EXIT.failed;
  return code === 'CONVOY_USAGE' || /INVALID/.test(code) ? EXIT.usage : EXIT.failed;
}
