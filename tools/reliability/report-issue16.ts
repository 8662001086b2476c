// The report's sections for what backups left running rely on: encrypted stores (crash trials on
// them, no plaintext stored, killed key changes), killed forget, and scheduled runs of the daemon
// killed mid-run, from their trial records.
import { count, failedText, finalTrialLines, groupBy, max, sum, table } from './report-common.js';
import type { TrialRecord } from './trial.js';

const held = (rs: readonly TrialRecord[], check: string): number => rs.reduce((n, r) => n + (r.checks[check] ?? 0), 0);

/** A store key or path with its ids, backup names and temporary-file names made general. */
const general = (key: string): string =>
  key
    .replace(/\d{8}T\d{6,9}Z-[0-9a-f]{6}/g, '<backup>')
    .replace(/[0-9a-f]{16,}/g, '<id>')
    .replace(/\/\.[^/]*(~[^/]*|\.tmp)$/, '/.<tmp>');

/**
 * A kill on a boundary of the store work, with ids and prefixes made general: a store request
 * (`PUT keys/<id>.json (dropped)`) or a filesystem step in a vfs store (`link keys/<id>.json`).
 */
function boundary(r: TrialRecord): string | undefined {
  const req = /store request #\d+ \((sent on after the kill|dropped)\): (\S+) (\S*)/.exec(r.faults[0] ?? '');
  if (req !== null) {
    const key = general((req[3] ?? '').split('/').slice(1).join('/')); // without the store's prefix
    const bucket = req[2] === 'POST' ? '(bucket: DeleteObjects)' : req[2] === 'GET' ? '(bucket: list)' : '(bucket)';
    return `${req[2]} ${key === '' ? bucket : key} (${req[1] === 'dropped' ? 'dropped' : 'sent on'})`;
  }
  const step = /store step #\d+( \+ \d+ ms)?: (\S+) (\S+)/.exec(r.faults[0] ?? '');
  if (step !== null) return `${step[2]} ${general(step[3] ?? '')}${step[1] === undefined ? '' : ' (+ a few ms)'}`;
  return undefined;
}

function boundaryLines(rs: readonly TrialRecord[]): string[] {
  const points = [
    ...groupBy(
      rs.filter((r) => boundary(r) !== undefined),
      (r) => `${r.store}: ${boundary(r) ?? ''}`,
    ),
  ];
  if (points.length === 0) return [];
  return [
    `Kills on a boundary of the store work (radosgw: before the n-th store request, held by the proxy; vfs: before the n-th filesystem change in the store, or a few ms after it began): ${points
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([p, g]) => `${p} × ${g.length}`)
      .join('; ')}; the rest at a delay within an uninterrupted run.`,
    '',
  ];
}

export function encryptedSection(crash: readonly TrialRecord[], keys: readonly TrialRecord[]): string[] {
  const enc = crash.filter((r) => r.op.startsWith('enc-'));
  const finals = crash.filter((r) => r.op === 'final' && r.name.includes('-encrypted'));
  const trials = keys.filter((r) => r.op !== 'final');
  const states = ['no new key file', 'new key file written, old one still there', 'old key file removed', 'no key file left'];
  const rows = [...groupBy(trials, (r) => `${r.op}\u0000${r.store}`)].map(([k, g]) => {
    const [op, store] = k.split('\u0000') as [string, string];
    return [
      op,
      store,
      g.length,
      ...states.map((s) => count(g, (r) => r.outcome.startsWith('killed') && r.outcome.endsWith(s))),
      count(g, (r) => r.outcome.startsWith('completed')),
      held(g, 'completed backup restores bit-exact'),
      `${(max(g, 'rerunMs') / 1000).toFixed(1)} s`,
      failedText(g),
    ];
  });
  return [
    '## 1c. Encrypted stores',
    '',
    `Campaign 1 also runs on stores created with \`convoy-backup init STORE --encrypt\` (\`crash-{vfs,s3}-encrypted\`; CONVOY_PASSWORD in every run's environment): ${enc.length} kill -9 trials (the \`enc-\` rows of section 1), ${count(enc, (r) => !r.passed)} failed. Their final trial also reads every stored object but \`convoy.json\` and \`keys/\` raw and searches it for 48-byte samples of the random and text regions of every backed-up image and for every plain block id (sha256, hex and raw): an encrypted store must hold none (the search first finds each sample in its source file).`,
    '',
    ...finals.map(
      (r) =>
        `- ${r.name}: ${r.measures.plaintextSamples ?? 0} samples searched for in ${r.measures.objectsSearched ?? 0} objects (${((r.measures.bytesSearched ?? 0) / 2 ** 20).toFixed(1)} MiB): ${(r.checks['an encrypted store holds no plaintext of a source and no plain block id'] ?? 0) > 0 ? 'none found' : '**check failed**'}`,
    ),
    '',
    '**Killed key changes** (`keys-{vfs,s3}`). `convoy-backup key change` (write the new key file, read it back, delete the old one) and `key add` are killed with SIGKILL at a seeded point: in three quarters of the trials on a boundary of their store work (radosgw: as their n-th store request reaches a proxy, then sent on or dropped; vfs: at their n-th filesystem change in the store, by `daemon-kill-hook.ts` preloaded into the CLI), else at a delay within the length of an uninterrupted run (measured in this run). Afterwards the old or the new passphrase must open the store, the old one must unless the new key file was written and the old one removed, every key file left must open with its passphrase, `verify --read-data` must be clean and every backup restore bit-exact with a working passphrase, and the command run again with a working passphrase must succeed (then the store is brought back to one key with `key remove`). The kill points are named by the key files they left:',
    '',
    table(
      [
        'operation',
        'store',
        'trials',
        ...states.map((s) => `killed: ${s}`),
        'finished before the kill',
        'restores checked bit-exact',
        'longest re-run',
        'failed',
      ],
      rows,
    ),
    '',
    ...boundaryLines(trials),
    ...finalTrialLines(keys),
    '',
  ];
}

export function forgetSection(rs: readonly TrialRecord[]): string[] {
  const trials = rs.filter((r) => r.op !== 'final');
  const rows = [...groupBy(trials, (r) => r.store)].map(([store, g]) => [
    store,
    g.length,
    count(g, (r) => r.outcome.startsWith('killed')),
    count(g, (r) => r.outcome.startsWith('completed')),
    `${sum(g, 'removedBeforeKill')} of ${sum(g, 'toRemove')}`,
    held(g, 'completed backup restores bit-exact'),
    held(g, 'a removed backup is absent, not half there (its restore: CONVOY_BACKUP_NOT_FOUND)'),
    `${(max(g, 'rerunMs') / 1000).toFixed(1)} s`,
    failedText(g),
  ]);
  return [
    '## 1d. Killed forget',
    '',
    '`convoy-backup forget STORE --keep-last K [--volume V]` (K of 1–2, one volume or all, 1–3 backups more than K each) is killed with SIGKILL at a seeded point, chosen as for key changes (store-work boundaries: requests or filesystem steps; or a delay). Its decision is taken from `--dry-run` first and checked against the model (the K newest of each volume). Afterwards `verify --read-data` must be clean; the store must list every backup forget keeps or was not asked to remove; a removed one must be absent (its restore fails with CONVOY_BACKUP_NOT_FOUND), never half; every listed backup must restore bit-exact; forget run again must succeed keeping the same backups; and `maintenance --full --grace 0s` after it must leave verify clean. A final trial runs two full maintenances and checks that the store holds exactly the blocks of the backups left.',
    '',
    table(
      [
        'store',
        'trials',
        'killed',
        'finished before the kill',
        'backups removed before the kill',
        'restores checked bit-exact',
        'removed ones checked absent',
        'longest re-run',
        'failed',
      ],
      rows,
    ),
    '',
    ...boundaryLines(trials),
    ...finalTrialLines(rs),
    '',
  ];
}

/** Where the kill of a scheduled run landed: the call (`mkdir snapshots/…`), or before / after the run. */
function runPhase(r: TrialRecord): string {
  const m = /^(.*?): step \d+\/\d+, (\S+) (\S+)/.exec(r.outcome);
  if (m === null) return r.outcome || '-';
  const where = general((m[3] ?? '').replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<uuid>'));
  const start = (m[1] ?? '').startsWith('killed during the start') ? 'start: ' : '';
  return `${start}${m[2]} ${m[2] === 'spawn' ? where : where.split('/').slice(0, 3).join('/')}`;
}

export function schedulesSection(rs: readonly TrialRecord[]): string[] {
  const trials = rs.filter((r) => r.op !== 'final');
  return [
    '## 5b. Scheduled backups (kill -9 of convoy-daemon mid-run)',
    '',
    "convoy-daemon (vfs driver, `--backup-password-file`) holds a policy made over the control API (`every 1h`, `keep: {last: 2}`) of one volume into an encrypted vfs store. Each trial writes new files into the volume, stops the daemon and moves the policy's next run an hour into the past (a run missed while the daemon was down: the real clock cannot be moved, and the daemon refuses intervals under a minute), then starts the daemon with the kill hook armed from its start, so it is killed (its process group, SIGKILL) at a seeded step of the missed run it starts (snapshot, backup, retention, snapshot delete, policy saved; steps counted as in section 5), in a tenth of the trials during the start's own recovery, in another tenth after the run was saved. Then a restart: the missed run must run once at start and complete (unless the killed one was saved); afterwards no `sched-` snapshot is left (daemon and base path), the policy shows a last run `ok` and nothing stuck (not running, next run ahead), at most the killed run's and the missed run's backups are new, retention removed only backups with `--keep-last` newer ones listed, every listed backup restores bit-exact through the daemon and `verify --read-data` is clean.",
    '',
    table(
      ['trial', 'killed at', 'missed run at restart', 'new backups', 'restores checked', 'result'],
      trials.map((r) => [
        r.name,
        runPhase(r),
        (r.measures.rerunAtStart ?? 0) > 0 ? 'ran' : 'not due (saved)',
        r.measures.newBackups ?? '-',
        r.checks['completed backup restores bit-exact'] ?? 0,
        r.passed ? 'passed' : failedText([r]),
      ]),
    ),
    '',
    ...finalTrialLines(rs),
    '',
  ];
}
