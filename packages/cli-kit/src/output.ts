import { errorCode, isConvoyError, redactUrl } from '@convoy/errors';
import type { CliIo } from './io.js';

/** What is printed for an error: `<program>: <message>` + `hint: <hint>`, or `{"error":{…}}`. */
export interface ErrorReport {
  code: string;
  message: string;
  hint?: string;
}

export interface OutputOptions {
  /** The CLI's name: a human error line starts with it (`convoy-backup: …`). */
  program: string;
  /** --json: results and errors as one JSON value on stdout, no notes. */
  json: boolean;
  /** --quiet: no notes either (default false). */
  quiet?: boolean;
  /** --debug (Rancher Convoy's): debug lines on stderr, and the error code under a human error. */
  debug?: boolean;
  /** --verbose (Rancher Convoy's): results as the whole object, indented JSON, instead of the short human lines. */
  verbose?: boolean;
}

/**
 * Printing for one run. Results go to stdout: human lines, or with --json exactly one JSON value
 * on one line (the last line). Notes go to stderr and are dropped by --json (and --quiet). Errors:
 * human on stderr, JSON on stdout (so a script reading stdout sees them).
 */
export class Output {
  readonly program: string;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly debugging: boolean;
  readonly #io: CliIo;

  constructor(io: CliIo, options: OutputOptions) {
    this.#io = io;
    this.program = options.program;
    this.json = options.json;
    this.quiet = options.quiet === true;
    this.verbose = options.verbose === true;
    this.debugging = options.debug === true;
  }

  /** A debug line on stderr (`debug: …`), with --debug only (even with --json: stdout stays one JSON value). */
  debug(line: string): void {
    if (this.debugging) this.#io.stderr.write(`debug: ${line}\n`);
  }

  /** The command's result: `value` with --json, else the lines `human()` returns. */
  result(value: unknown, human: () => readonly string[]): void {
    if (this.json) this.#io.stdout.write(`${JSON.stringify(value)}\n`);
    else if (this.verbose) this.#io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else for (const line of human()) this.#io.stdout.write(`${line}\n`);
  }

  /** A note for a person watching (stderr); not with --json or --quiet. */
  info(line: string): void {
    if (!this.json && !this.quiet) this.#io.stderr.write(`${line}\n`);
  }

  error(report: ErrorReport): void {
    if (this.json) {
      const error: ErrorReport = { code: report.code, message: report.message };
      if (report.hint !== undefined) error.hint = report.hint;
      this.#io.stdout.write(`${JSON.stringify({ error })}\n`);
      return;
    }
    this.#io.stderr.write(`${this.program}: ${report.message}\n`);
    if (report.hint !== undefined) this.#io.stderr.write(`hint: ${report.hint}\n`);
    this.debug(`code ${report.code}`);
  }
}

/**
 * The report for any thrown value: a ConvoyError's code and hint, a Node error's code, else
 * CONVOY_INTERNAL with a hint to report a bug in `program`.
 */
export function describeError(err: unknown, program: string): ErrorReport {
  if (isConvoyError(err)) return withoutSecrets({ code: err.code, message: err.message, hint: err.hint });
  const message = err instanceof Error ? err.message : String(err);
  const code = errorCode(err);
  if (code !== undefined) return withoutSecrets({ code, message });
  return withoutSecrets({
    code: 'CONVOY_INTERNAL',
    message,
    hint: `this is a bug in ${program}; please report it with the command you ran`,
  });
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/** Messages can quote URLs (endpoints, stores, backup destinations): run each through redactUrl. */
function withoutSecrets(report: ErrorReport): ErrorReport {
  const clean = (s: string): string => s.replace(URL_IN_TEXT, (u) => redactUrl(u));
  return { code: report.code, message: clean(report.message), ...(report.hint === undefined ? {} : { hint: clean(report.hint) }) };
}
