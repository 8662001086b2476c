// The report's section on campaign 6, hostile input (hostile*.ts): requests sent by kind, answers
// by status, CLI runs by exit, crashes, writes outside the daemon's paths and secret leaks.
import { sum, table } from './report-common.js';
import type { TrialRecord } from './trial.js';

/** Sums the measures of `rs` whose name starts with `prefix`, by the rest of the name. */
function byPrefix(rs: readonly TrialRecord[], prefix: string): [string, number][] {
  const m = new Map<string, number>();
  for (const r of rs)
    for (const [k, v] of Object.entries(r.measures))
      if (k.startsWith(prefix)) m.set(k.slice(prefix.length), (m.get(k.slice(prefix.length)) ?? 0) + v);
  return [...m].sort((a, b) => b[1] - a[1]);
}

export function hostileSection(rs: TrialRecord[]): string[] {
  if (rs.length === 0) return [];
  const sockets = rs.filter((r) => r.op.endsWith('-socket'));
  const clis = rs.filter((r) => r.op.endsWith('-urls'));
  const secrets = rs.filter((r) => r.op === 'secrets');
  const failed = rs.filter((r) => !r.passed).length;
  const perSocket = (socket: string): TrialRecord[] => sockets.filter((r) => r.op === `${socket}-socket`);
  const kinds = [
    ...new Set(
      sockets.flatMap((r) =>
        Object.keys(r.measures)
          .filter((k) => k.startsWith('kind:'))
          .map((k) => k.slice(5)),
      ),
    ),
  ].sort();
  const statuses = [
    ...new Set(
      sockets.flatMap((r) =>
        Object.keys(r.measures)
          .filter((k) => k.startsWith('status:'))
          .map((k) => k.slice(7)),
      ),
    ),
  ].sort();
  const count = (socket: string, key: string): number => sum(perSocket(socket), key);
  return [
    '## 6. Hostile input',
    '',
    "A real convoy-daemon (vfs driver, its own root and vfs path, a volume, a snapshot and a real vfs backup) gets seeded fast-check batches of hostile requests on both sockets, one connection each, written raw: random and malformed JSON, 10 MB bodies, nesting up to 200,000 deep, names and URLs with `%`, invalid percent-encoding, `//`, encoded `..` (`%2e%2e`, `%252e`), NUL, backslashes, unicode and overlong text, wrong methods (CONNECT included), wrong content types, chunking and upgrade headers. Every request must get a proper answer: on the control socket a JSON error with a CONVOY_* code (4xx for bad input; a 5xx only for a store that cannot be reached or stored data that is damaged, never CONVOY_INTERNAL), on the plugin socket Docker's `{\"Err\"}` (never an internal error) — never a hang or a dropped connection. After each batch both sockets must still serve, and nothing outside the daemon's root, vfs path and the store directory may have changed (a snapshot of the campaign directory with a sentinel tree, `/` and `/etc`, and stray fuzzer names in the temp directory). Then hostile backup URLs go through every `convoy-backup` and `convoy` command that takes one (exit 0, or a `--json` error with a CONVOY_* code), and a radosgw user with distinctive keys backs up, restores and fails on purpose (missing bucket, wrong secret, dead endpoint, credentials in URLs and endpoints) through both CLIs and the daemon: every output, `--json` line, daemon log and file under the daemons' roots is searched for the secrets.",
    '',
    `Trials: ${rs.length} (${failed === 0 ? 'all passed' : `**${failed} failed**`}). Requests: ${sum(sockets, 'requests')} (${sum(sockets, 'keptAlive')} of them followed by a health request on the same kept-alive connection, each served); CLI runs: ${sum(clis, 'runs') + sum(secrets, 'runs')}; **crashes: ${sum(rs, 'crashes')}**; **writes outside: ${sum(rs, 'writesOutside')}**; **secret leaks: ${sum(secrets, 'secretLeaks')}** (${sum(secrets, 'placesSearched')} outputs, logs and files, ${Math.ceil(sum(secrets, 'bytesSearched') / 1024)} KiB searched).`,
    '',
    table(
      ['requests by kind', 'plugin socket', 'control socket'],
      kinds.map((k) => [k, count('plugin', `kind:${k}`), count('control', `kind:${k}`)]),
    ),
    '',
    table(
      ['answers by status', 'plugin socket', 'control socket'],
      statuses.map((s) => [s, count('plugin', `status:${s}`), count('control', `status:${s}`)]),
    ),
    '',
    table(['CLI runs by exit', 'runs'], byPrefix([...clis], 'exit:')),
    '',
    table(
      ['trial', 'faults', 'result'],
      rs.map((r) => [
        r.name,
        r.faults.join('; ') || r.outcome,
        r.passed
          ? 'passed'
          : `**failed**: ${r.failures
              .map((f) => f.split('\n')[0])
              .join('; ')
              .slice(0, 400)}`,
      ]),
    ),
    '',
  ];
}
