import { EXIT } from '@convoy/cli-kit';
import type { ApiError } from '@convoy/control-api';
import { redactUrl } from '@convoy/errors';
import type { CommandContext } from './context.js';

/**
 * A URL to print: unchanged (scripts pass it on byte for byte) unless it holds a secret, which
 * redactUrl masks.
 */
export function printableUrl(url: string): string {
  const redacted = redactUrl(url);
  return redacted.includes('***') ? redacted : url;
}

/**
 * Records the daemon could not read, which a listing left out: each on stderr as an error line and
 * its hint (also with --json, so stdout keeps its one JSON value). The exit code: 1 if any.
 */
export function reportProblems(ctx: CommandContext, problems: readonly ApiError[]): number {
  for (const p of problems) {
    ctx.io.stderr.write(`convoy: ${p.message}\n`);
    if (p.hint !== undefined) ctx.io.stderr.write(`hint: ${p.hint}\n`);
  }
  return problems.length === 0 ? EXIT.ok : EXIT.failed;
}
