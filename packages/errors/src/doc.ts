import { ERROR_CATEGORIES, EXIT, type ErrorCategory } from './categories.js';
import { ERROR_CODES, type ErrorCodeSpec } from './codes.js';

const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** docs/errors.md: the categories with their HTTP status and exit code, then every code. */
export function renderErrorsDoc(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from packages/errors/src/codes.ts by `npm run -s docs:errors`; do not edit by hand. -->',
    '',
    'Every error Convoy reports has a stable code that scripts can branch on, a message that says what',
    "happened and a hint that says what to do. The code's category decides the HTTP status of the",
    "daemon's answer and the exit code of `convoy` and `convoy-backup` (`--json` prints",
    '`{"error": {"code", "message", "hint"}}`). A code this version does not know (from a newer daemon)',
    'is treated as internal.',
    '',
    '## Exit codes',
    '',
    '| exit | meaning |',
    '|---|---|',
    `| ${EXIT.ok} | success |`,
    `| ${EXIT.failed} | the operation failed: not found, conflict, unavailable, failed, internal |`,
    `| ${EXIT.usage} | usage: the command line or request asks for something invalid |`,
    `| ${EXIT.corrupt} | corrupt: stored data is damaged (and \`convoy-backup verify\` found problems, \`repair\` left backups damaged) |`,
    `| ${EXIT.interrupted} | interrupted by Ctrl-C (SIGINT); 143 for SIGTERM |`,
    '',
    '## Categories',
    '',
    '| category | HTTP status | exit | meaning |',
    '|---|---|---|---|',
  ];
  for (const [name, c] of Object.entries(ERROR_CATEGORIES)) lines.push(`| ${name} | ${c.status} | ${c.exit} | ${cell(c.meaning)} |`);
  lines.push('', '## Codes', '');
  const byCategory = new Map<ErrorCategory, [string, ErrorCodeSpec][]>();
  for (const [code, spec] of Object.entries(ERROR_CODES) as [string, ErrorCodeSpec][]) {
    byCategory.set(spec.category, [...(byCategory.get(spec.category) ?? []), [code, spec]]);
  }
  for (const category of Object.keys(ERROR_CATEGORIES) as ErrorCategory[]) {
    const codes = (byCategory.get(category) ?? []).sort(([a], [b]) => a.localeCompare(b));
    if (codes.length === 0) continue;
    lines.push(`### ${category}`, '', '| code | HTTP | meaning | default hint |', '|---|---|---|---|');
    for (const [code, spec] of codes) {
      lines.push(
        `| \`${code}\` | ${spec.status ?? ERROR_CATEGORIES[category].status} | ${cell(spec.meaning)} | ${cell(spec.hint ?? '')} |`,
      );
    }
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
