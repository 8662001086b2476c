// What the report's sections share: a Markdown table, counts and sums over trial records, the
// failed-trials cell, and the lines of a campaign's closing ("final") trials.
import type { TrialRecord } from './trial.js';

export function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]): string =>
    `| ${cells.map((c) => String(c).replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export const count = (rs: readonly TrialRecord[], f: (r: TrialRecord) => boolean): number => rs.filter(f).length;
export const sum = (rs: readonly TrialRecord[], key: string): number => rs.reduce((n, r) => n + (r.measures[key] ?? 0), 0);
export const max = (rs: readonly TrialRecord[], key: string): number => rs.reduce((n, r) => Math.max(n, r.measures[key] ?? 0), 0);
export const failedText = (rs: readonly TrialRecord[]): string => {
  const failed = rs.filter((r) => !r.passed);
  const bugs = [...new Set(failed.flatMap((r) => r.knownBugs))];
  return failed.length === 0 ? '0' : `**${failed.length}**${bugs.length > 0 ? ` (${bugs.join(', ')})` : ''}`;
};
export const groupBy = <T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> => {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
};

/** After a trial's outcome: nothing when it passed, else the first line of each failure. */
export const failedTail = (r: TrialRecord): string =>
  r.passed
    ? ''
    : ` — **failed**: ${r.failures
        .map((f) => f.split('\n')[0])
        .join('; ')
        .slice(0, 600)}`;

/** One line per campaign-closing ("final") trial: its outcome, and on failure the first line of each failure. */
export function finalTrialLines(records: readonly TrialRecord[]): string[] {
  return records.filter((r) => r.op === 'final').map((r) => `- ${r.name}: ${r.outcome}${failedTail(r)}`);
}

/** What the directory backups of these trials did with packs (nothing when there were none). */
export function dirBackupLines(records: readonly TrialRecord[]): string[] {
  const n = (key: string): number => records.reduce((t, r) => t + (r.measures[key] ?? 0), 0);
  if (n('dirBackups') === 0) return [];
  return [
    `Directory backups (\`dir-\` operations): ${n('dirBackups')} completed in the trials, writing ${n('packsWritten')} packs and repacking ${n('packsRepacked')} (a parent pack less than half used by the new backup: its chunks copied into new packs, so deleting old backups frees it); each is checked like an image backup, by a hash of the restored tree.`,
    '',
  ];
}
