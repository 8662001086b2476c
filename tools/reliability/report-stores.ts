// The report's sections for the store campaigns on convoy-backup: crash (kill -9), pause
// (SIGSTOP / SIGCONT), corruption, concurrency and lease expiry, from their trial records.
import { count, dirBackupLines, failedTail, failedText, groupBy, max, sum, table } from './report-common.js';
import type { TrialRecord } from './trial.js';

export function crashSection(rs: TrialRecord[]): string[] {
  const trials = rs.filter((r) => r.op !== 'final');
  const rows = [...groupBy(trials, (r) => `${r.op}\u0000${r.store}`)].map(([k, g]) => {
    const [op, store] = k.split('\u0000') as [string, string];
    return [
      op,
      store,
      g.length,
      count(g, (r) => r.outcome.startsWith('killed before')),
      count(g, (r) => r.outcome.startsWith('killed after')),
      count(g, (r) => r.outcome.startsWith('completed')),
      count(g, (r) => r.outcome.includes('had committed')),
      g.reduce((n, r) => n + (r.checks['completed backup restores bit-exact'] ?? 0), 0),
      `${(max(g, 'rerunMs') / 1000).toFixed(1)} s`,
      failedText(g),
    ];
  });
  return [
    '## 1. Crash trials (kill -9)',
    '',
    "Each trial kills one convoy-backup process with SIGKILL at a seeded point: a delay from its spawn (before its first `--json` progress line: header, lease, listing) or from its first progress line, scaled by how long the same operation took uninterrupted in this run. Then: `verify --read-data` must be clean, the store must list exactly the backups that completed (a killed create that had committed is adopted), every one of them must restore bit-exact (sha256 of the source state it was taken of), and running the interrupted operation again must succeed — without CONVOY_STORE_LOCKED and within one lease expiry. One store per kind lives through all trials; a final check runs two full maintenances, restores everything, and checks that the store holds exactly the blocks the completed backups reference (nothing lost, nothing leaked); a store of directory backups (`crash-*-dirs`) is emptied instead: every backup deleted, and full maintenances must leave no block. The killed operation, its re-run and the final check run the `convoy-backup` bin as a child process; the set-up backups and deletes and the checks after each trial run the same CLI code (`runCli`) inside the campaign's process (`judge-cli.ts`), which spares a process start (~0.4 CPU s) for each of them.",
    '',
    table(
      [
        'operation',
        'store',
        'trials',
        'killed before 1st progress',
        'killed after',
        'finished before the kill',
        'killed create had committed',
        'restores checked bit-exact',
        'longest re-run',
        'failed',
      ],
      rows,
    ),
    '',
    ...dirBackupLines(rs),
    ...rs.filter((r) => r.op === 'final').map(finalLine),
    '',
  ];
}

/** A store campaign's final trial: its outcome and how many full maintenances collected the garbage. */
const finalLine = (r: TrialRecord): string =>
  `- ${r.name}: ${r.outcome}; garbage gone after ${r.measures.fullMaintenancesToCollectGarbage ?? '?'} full maintenances${failedTail(r)}`;

export function pauseSection(rs: TrialRecord[]): string[] {
  return [
    '## 2. Pause trials (SIGSTOP / SIGCONT)',
    '',
    'A backup (incremental on its parent) is stopped at its first progress line plus a seeded 0–40 ms; while it is stopped an older backup of the volume is deleted and `maintenance --full --grace 0s` runs twice (the first marks the unreferenced blocks — those the stopped backup already uploaded and those only the deleted backup held — the second deletes them); then SIGCONT. It must commit and restore bit-exact, or fail cleanly without committing; verify stays clean; two more full maintenances must leave everything restorable.',
    '',
    table(
      [
        'trial',
        'lease',
        'stopped for',
        'blocks uploaded before the stop',
        'blocks marked / deleted while stopped',
        "stopped backup's blocks swept",
        'outcome',
        'result',
      ],
      rs.map((r) => [
        r.name,
        r.op,
        `${((r.measures.pausedMs ?? 0) / 1000).toFixed(1)} s`,
        r.measures.blocksUploadedBeforePause ?? '-',
        `${r.measures.blocksMarkedWhilePaused ?? 0} / ${r.measures.blocksDeletedWhilePaused ?? 0}`,
        r.measures.blocksOfPausedBackupSwept ?? '-',
        r.outcome,
        r.passed ? 'passed' : failedText([r]),
      ]),
    ),
    '',
  ];
}

export function corruptionSection(rs: TrialRecord[]): string[] {
  const yes = (r: TrialRecord, check: string): string =>
    r.failures.some((f) => f.startsWith(check)) ? '**no**' : (r.checks[check] ?? 0) > 0 ? 'yes' : '-';
  return [
    '## 3. Corruption',
    '',
    'A healthy store (volumes `damaged` and `healthy` with no blocks in common, two backups each, two generations of the reference index) is copied and one object of the copy is damaged. Expected: `verify --read-data` exits 3 naming each damaged object; restoring a backup that needs it fails naming it; every other backup restores bit-exact; a backup, a delete, a quick and two full maintenances of the healthy volume go on (for index damage, maintenance may instead fail naming the object); a new backup of the damaged volume works; afterwards verify names nothing new; and the way out the CLI offers (`maintenance --rebuild-index`, `repair --source`, or deleting the damaged backup) leaves a store that verifies clean and restores.',
    '',
    table(
      ['trial', 'damage', 'verify names it', 'restore names it', 'healthy volume goes on', 'nothing else lost', 'recovered', 'result'],
      rs.map((r) => [
        r.name,
        r.faults.join('; '),
        yes(r, 'verify names the damaged object') === '-'
          ? yes(r, 'verify refuses the store, naming the header')
          : yes(r, 'verify names the damaged object'),
        yes(r, 'the failed restore names the damaged object'),
        r.failures.some((f) => / goes on|succeeds or fails naming/.test(f)) ? '**no**' : 'yes',
        r.failures.some((f) => f.startsWith('the damage did not spread') || f.startsWith('completed backup restores')) ? '**no**' : 'yes',
        r.op === 'header-garble'
          ? '-'
          : r.failures.some((f) => /recover|after the recovery|can be deleted|leaves no backup damaged|^verify --read-data clean/.test(f))
            ? '**no**'
            : (r.outcome.match(/recovered with (.*)$/)?.[1] ?? '-'),
        r.passed ? 'passed' : failedText([r]),
      ]),
    ),
    '',
  ];
}

export function concurrencySection(all: TrialRecord[]): string[] {
  const rs = all.filter((r) => r.op !== 'final');
  const rows = [...groupBy(rs, (r) => `${r.op}\u0000${r.store}`)].map(([k, g]) => {
    const [op, store] = k.split('\u0000') as [string, string];
    return [
      op,
      store,
      g.length,
      `${(max(g, 'roundMs') / 1000).toFixed(1)} s`,
      g.reduce((n, r) => n + (r.checks['completed backup restores bit-exact'] ?? 0), 0),
      failedText(g),
    ];
  });
  return [
    '## 4. Concurrency',
    '',
    'Operations that overlap for real, started at seeded offsets on one store per kind: `same-volume` — two backups of one volume at once; `backup+delete` — a backup while an older backup of its volume is deleted; `backup+maintenance` — a backup that reuses blocks only a just-deleted backup held, while two `maintenance --full --grace 0s` mark and sweep them; `two-hosts` — two processes backing up two volumes that share blocks into one store while a quick maintenance runs. Every process must exit 0 within its deadline; then verify is clean and every backup restores bit-exact.',
    '',
    table(['scenario', 'store', 'rounds', 'longest round', 'restores checked bit-exact', 'failed'], rows),
    '',
    `Time spent in overlapping operations: ${(sum(rs, 'roundMs') / 1000).toFixed(0)} s.`,
    '',
    ...all.filter((r) => r.op === 'final').map(finalLine),
    '',
  ];
}

export function leaseSection(rs: TrialRecord[]): string[] {
  return [
    "## Lease expiry (the CLI's own 150 s leases)",
    '',
    'A maintenance is killed at its first progress line, leaving its live-looking lease. A backup, a restore and a delete right after must not wait for it; the next maintenance must take the lease over and succeed without CONVOY_STORE_LOCKED, within one lease expiry.',
    '',
    table(
      ['trial', 'dead leases', 're-run took', 'since the kill', 'outcome', 'result'],
      rs.map((r) => [
        r.name,
        r.measures.deadMaintenanceLeases ?? '-',
        `${((r.measures.rerunMs ?? 0) / 1000).toFixed(1)} s`,
        `${((r.measures.sinceKillMs ?? 0) / 1000).toFixed(1)} s`,
        r.outcome,
        r.passed ? 'passed' : failedText([r]),
      ]),
    ),
    '',
  ];
}
