import { errorCode, isConvoyError, redactUrl } from '@convoy/errors';
import type { CliIo } from './context.js';

/** What is printed for an error: `convoy: <message>` + `hint: <hint>`, or `{"error":{…}}`. */
export interface ErrorReport {
  code: string;
  message: string;
  hint?: string;
}

/**
 * Printing for one run. Results go to stdout: human lines, or with --json exactly one JSON value
 * on one line (the last line). Notes go to stderr and are dropped by --json. Errors: human on
 * stderr, JSON on stdout (so a script reading stdout sees them).
 */
export class Output {
  readonly json: boolean;
  readonly #io: CliIo;

  constructor(io: CliIo, options: { json: boolean }) {
    this.#io = io;
    this.json = options.json;
  }

  /** The command's result: `value` with --json, else the lines `human()` returns. */
  result(value: unknown, human: () => readonly string[]): void {
    if (this.json) this.#io.stdout.write(`${JSON.stringify(value)}\n`);
    else for (const line of human()) this.#io.stdout.write(`${line}\n`);
  }

  /** A note for a person watching (stderr); not with --json. */
  info(line: string): void {
    if (!this.json) this.#io.stderr.write(`${line}\n`);
  }

  error(report: ErrorReport): void {
    if (this.json) {
      const error: ErrorReport = { code: report.code, message: report.message };
      if (report.hint !== undefined) error.hint = report.hint;
      this.#io.stdout.write(`${JSON.stringify({ error })}\n`);
      return;
    }
    this.#io.stderr.write(`convoy: ${report.message}\n`);
    if (report.hint !== undefined) this.#io.stderr.write(`hint: ${report.hint}\n`);
  }
}

/** The report for any thrown value: a ConvoyError's code and hint, a Node error's code, else internal. */
export function describeError(err: unknown): ErrorReport {
  if (isConvoyError(err)) return withoutSecrets({ code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) });
  const message = err instanceof Error ? err.message : String(err);
  const code = errorCode(err);
  if (code !== undefined) return withoutSecrets({ code, message });
  return withoutSecrets({ code: 'CONVOY_INTERNAL', message, hint: 'this is a bug in convoy; please report it with the command you ran' });
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/** Messages can quote URLs (backup destinations): run each through redactUrl. */
function withoutSecrets(report: ErrorReport): ErrorReport {
  const clean = (s: string): string => s.replace(URL_IN_TEXT, (u) => redactUrl(u));
  return { code: report.code, message: clean(report.message), ...(report.hint === undefined ? {} : { hint: clean(report.hint) }) };
}

/**
 * A URL to print: unchanged (scripts pass it on byte for byte) unless it holds a secret, which
 * redactUrl masks.
 */
export function printableUrl(url: string): string {
  const redacted = redactUrl(url);
  return redacted.includes('***') ? redacted : url;
}
