// The faulty-S3 section of the report (campaign s3-faults.ts): outcomes by operation, the faults
// injected by kind, and what each lying PUT hit.
import { S3_FAULTS } from './faulty-s3-proxy.js';
import { dirBackupLines, failedText, finalTrialLines, table } from './report-common.js';
import type { TrialRecord } from './trial.js';

const outcomeOf = (r: TrialRecord): string => r.outcome.split(' ')[0] ?? '';
const lieTarget = (r: TrialRecord): string =>
  Object.keys(r.measures)
    .find((k) => k.startsWith('lieAt:'))
    ?.slice('lieAt:'.length) ?? '?';

export function s3FaultsSection(all: readonly TrialRecord[]): string[] {
  if (all.length === 0) return [];
  const rs = all.filter((r) => r.op !== 'final');
  const ops = [...new Set(rs.map((r) => r.op))].sort();
  const n = (g: readonly TrialRecord[], outcome: string): number => g.filter((r) => outcomeOf(r) === outcome).length;
  const codes = (g: readonly TrialRecord[]): string => {
    const c = [
      ...new Set(g.filter((r) => outcomeOf(r) === 'failed-clearly').map((r) => r.outcome.match(/\((CONVOY_[A-Z0-9_]+)\)/)?.[1] ?? '?')),
    ];
    return c.length === 0 ? '' : ` (${c.join(', ')})`;
  };
  const faults = (g: readonly TrialRecord[]): number =>
    g.reduce((s, r) => s + S3_FAULTS.reduce((t, k) => t + (r.measures[`fault:${k}`] ?? 0), 0), 0);
  const rows = ops.map((op) => {
    const g = rs.filter((r) => r.op === op);
    return [
      op,
      g.length,
      g.reduce((s, r) => s + (r.measures.requests ?? 0), 0),
      faults(g),
      n(g, 'succeeded-correct'),
      `${n(g, 'failed-clearly')}${codes(g)}`,
      n(g, 'LOST') > 0 ? `**${n(g, 'LOST')}**` : 0,
      n(g, 'failed-unclearly') > 0 ? `**${n(g, 'failed-unclearly')}**` : 0,
      `${(Math.max(0, ...g.map((r) => r.measures.runMs ?? 0)) / 1000).toFixed(1)} s`,
      failedText(g),
    ];
  });
  const byKind = S3_FAULTS.map((k) => [k, rs.reduce((s, r) => s + (r.measures[`fault:${k}`] ?? 0), 0)] as [string, number]).filter(
    ([, c]) => c > 0,
  );
  const lying = rs.filter((r) => r.op.endsWith('-lying'));
  return [
    '## Faulty S3 (a fault-injecting proxy in front of radosgw)',
    '',
    'Each trial runs one convoy-backup operation against radosgw through `FaultyS3Proxy` (tools/reliability/faulty-s3-proxy.ts), which gives each request, with the trial\'s seeded fault rate (5–45 %), one fault of a kind that fits it: a 503 SlowDown or 500 InternalError answer; the connection cut while the request body arrives, after it arrived, before the answer (for a write that happened: its answer lost), or after the whole answer; an answer held back 0.1–2.5 s; a body cut in half. Outcomes: **succeeded-correct** (exit 0, and through a clean connection the data is right: a create is listed and restores bit-exact, a restore wrote the backup, a delete removed it, verify said the store is whole); **failed-clearly** (nonzero exit with a CONVOY_* code and a message, and nothing damaged); **LOST** (exit 0 with data missing or wrong: Rancher Convoy\'s S3 "errors yet success"); **failed-unclearly** (a hang, a signal, no code). `create-lying` trials answer one PUT of a create with 200 and never store it (a lying server): of a block, the add marker, the block map, the manifest, the volume record or the lease, in turn. `maintenance-lying` trials do the same to one of the first ten writes of a full maintenance (index runs and generation, sweep record, doomed list, …), then run it again and check everything once more. The `dir-` operations (`s3-faults-dirs.test.ts`, a store of its own) do the same to directory backups (a tree of small files in packs, large files in loose chunks, a symlink, an empty directory; dir-volumes.ts), judged by a hash of the restored tree. `stalled` trials (--full) leave one request of a create, restore or verify unanswered, or its body half sent: the S3 driver must give it up after 60 s without a byte and retry, within one lease expiry (150 s). After every trial, through a clean connection: `verify --read-data` is clean, the store lists exactly the backups that completed, each restores bit-exact, and the operation run again without faults succeeds; no run waits longer than one lease expiry (plus the slowness injected).',
    '',
    table(
      [
        'operation',
        'trials',
        'requests',
        'faults',
        'succeeded-correct',
        'failed-clearly (codes)',
        'LOST',
        'failed-unclearly',
        'longest run',
        'failed',
      ],
      rows,
    ),
    '',
    `Faults injected by kind: ${byKind.map(([k, c]) => `${k} ${c}`).join(', ') || 'none'}.`,
    '',
    ...dirBackupLines(rs),
    ...(lying.length === 0
      ? []
      : [
          'Lying PUTs (answered 200, never stored):',
          '',
          ...lying.map(
            (r) =>
              `- ${r.name}${r.op.endsWith('create-lying') ? `, the ${lieTarget(r)}` : ''}: ${r.faults.join('; ') || 'no such PUT (the create made none)'} → ${r.outcome}${r.passed ? '' : ' — **failed**'}`,
          ),
          '',
        ]),
    ...finalTrialLines(all),
    '',
  ];
}
