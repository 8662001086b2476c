// The backup bench's encryption rows: what encryption costs, step by step, as the wall time of the
// convoy-backup CLI on an encrypted store (`convoy-cli-enc`, made by `init --encrypt`) over its
// wall time on a plain store (`convoy-cli`), both measured in the same run, on the local (vfs) rows
// and on the S3 rows; and issue 16's target, "encryption costs ≤ 15 %".
import type { ConvoyFrontend } from './backup-convoy.js';
import type { StepId, StepResult } from './backup-peers.js';
import type { S3Phase } from './backup-phases.js';
import { find, markdownTable, type Target } from './backup-report.js';
import { s3Medians } from './backup-report-s3.js';
import type { S3Step, S3StepResult } from './backup-s3.js';

const MiB = 2 ** 20;

/** Issue 16: encryption may cost at most this share of the plain wall time, on every step. */
export const ENCRYPTION_COST_LIMIT = 0.15;

/** Each encrypted frontend and the plain frontend it is the encrypted twin of. */
export const ENCRYPTED_PAIRS: readonly { encrypted: ConvoyFrontend; plain: ConvoyFrontend }[] = [
  { encrypted: 'convoy-cli-enc', plain: 'convoy-cli' },
];

const LOCAL_STEPS: readonly { step: StepId; label: string }[] = [
  { step: 'full', label: 'full backup' },
  { step: 'incremental-changed', label: 'incremental with change list' },
  { step: 'incremental', label: 'incremental re-reading all' },
  { step: 'restore', label: 'restore' },
];

const S3_STEPS: readonly { step: S3Step; label: string }[] = [
  { step: 's3-backup', label: 'backup to s3://' },
  { step: 's3-restore', label: 'restore from s3://' },
];

/** One step of an encrypted frontend beside the same step of its plain twin (each the median run). */
export interface EncryptionCost {
  encrypted: ConvoyFrontend;
  plain: ConvoyFrontend;
  /** fs: the local rows (vfs store on local disk); s3: the S3 rows. */
  where: 'fs' | 's3';
  step: string;
  plainSeconds: number;
  encryptedSeconds: number;
  /** encryptedSeconds / plainSeconds − 1. */
  cost: number;
  /**
   * The median over runs of each run's encrypted / plain − 1 (the two ran minutes apart in the
   * same run, so a load that comes and goes between runs moves both alike); = cost with one run.
   */
  pairedCost: number;
  /** Volume MiB (2^20 bytes) / seconds. */
  plainMiBps: number;
  encryptedMiBps: number;
  /** user + system CPU seconds of the step's process. */
  plainCpuSeconds: number;
  encryptedCpuSeconds: number;
  /** CPU seconds other processes used during each step (noise). */
  plainOthersSeconds: number;
  encryptedOthersSeconds: number;
}

interface Timed {
  seconds: number;
  userSeconds: number;
  systemSeconds: number;
  otherCpuSeconds: number;
}

/** A step's results: the median run of each frontend, and every run's (to pair them run by run). */
interface StepRuns<T> {
  median: (tool: ConvoyFrontend) => T | undefined;
  runs: readonly ((tool: ConvoyFrontend) => T | undefined)[];
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? (sorted[Math.floor(mid)] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function cost(
  pair: (typeof ENCRYPTED_PAIRS)[number],
  where: 'fs' | 's3',
  step: string,
  volumeBytes: number,
  r: StepRuns<Timed>,
): EncryptionCost | undefined {
  const p = r.median(pair.plain);
  const e = r.median(pair.encrypted);
  if (p === undefined || e === undefined || p.seconds <= 0 || e.seconds <= 0) return undefined;
  const ratios = r.runs.flatMap((at) => {
    const [a, b] = [at(pair.plain), at(pair.encrypted)];
    return a === undefined || b === undefined || a.seconds <= 0 ? [] : [b.seconds / a.seconds - 1];
  });
  return {
    ...pair,
    where,
    step,
    plainSeconds: p.seconds,
    encryptedSeconds: e.seconds,
    cost: e.seconds / p.seconds - 1,
    pairedCost: ratios.length === 0 ? e.seconds / p.seconds - 1 : median(ratios),
    plainMiBps: volumeBytes / MiB / p.seconds,
    encryptedMiBps: volumeBytes / MiB / e.seconds,
    plainCpuSeconds: p.userSeconds + p.systemSeconds,
    encryptedCpuSeconds: e.userSeconds + e.systemSeconds,
    plainOthersSeconds: p.otherCpuSeconds,
    encryptedOthersSeconds: e.otherCpuSeconds,
  };
}

/**
 * Every step both frontends of a pair ran, local rows first, then S3 rows. `local`: the median run
 * per tool and step; `localRuns`: every run's results (samples), to pair them run by run.
 */
export function encryptionCosts(
  local: readonly StepResult[],
  localRuns: readonly (readonly StepResult[])[],
  volumeBytes: number,
  s3: S3Phase | undefined,
): EncryptionCost[] {
  const out: EncryptionCost[] = [];
  const m = s3 === undefined ? undefined : s3Medians(s3);
  for (const pair of ENCRYPTED_PAIRS) {
    for (const { step, label } of LOCAL_STEPS) {
      const runs = localRuns.map((results) => (tool: ConvoyFrontend) => find(results, tool, step));
      const c = cost(pair, 'fs', label, volumeBytes, { median: (tool) => find(local, tool, step), runs });
      if (c !== undefined) out.push(c);
    }
    for (const { step, label } of S3_STEPS) {
      const at = (steps: readonly S3StepResult[]) => (tool: ConvoyFrontend) => steps.find((r) => r.tool === tool && r.step === step);
      const runs = (s3?.runs ?? []).map((r) => at(r.steps));
      const c = cost(pair, 's3', label, m?.steps.find((r) => r.step === step)?.volumeBytes ?? 0, { median: at(m?.steps ?? []), runs });
      if (c !== undefined) out.push(c);
    }
  }
  return out;
}

const percent = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %`;

/** Issue 16's target, one line per step (fs and S3), like the time targets against borg. */
export function evaluateEncryptionTargets(costs: readonly EncryptionCost[]): Target[] {
  return costs.map((c) => ({
    name: `${c.encrypted}: encryption costs ≤ ${ENCRYPTION_COST_LIMIT * 100} %, ${c.where} ${c.step}`,
    limit: `≤ +${ENCRYPTION_COST_LIMIT * 100} % over ${c.plain}`,
    measured: `${percent(c.cost)} (${c.encryptedSeconds.toFixed(2)} s vs ${c.plainSeconds.toFixed(2)} s)`,
    met: c.cost <= ENCRYPTION_COST_LIMIT,
  }));
}

export function formatEncryption(costs: readonly EncryptionCost[]): string[] {
  if (costs.length === 0) return [];
  const rows = costs.map((c) => [
    `${c.where} ${c.step}`,
    c.plainSeconds.toFixed(2),
    c.encryptedSeconds.toFixed(2),
    percent(c.cost),
    percent(c.pairedCost),
    c.plainMiBps.toFixed(1),
    c.encryptedMiBps.toFixed(1),
    `${c.plainCpuSeconds.toFixed(2)} / ${c.encryptedCpuSeconds.toFixed(2)}`,
    c.plainCpuSeconds > 0 ? percent(c.encryptedCpuSeconds / c.plainCpuSeconds - 1) : '—',
    `${c.plainOthersSeconds.toFixed(1)} / ${c.encryptedOthersSeconds.toFixed(1)}`,
  ]);
  const pairs = [...new Set(costs.map((c) => `\`${c.encrypted}\` against \`${c.plain}\``))].join(', ');
  return [
    `Encryption (${pairs}): the same CLI on a store created by \`convoy-backup init --encrypt\` (AES-256-GCM in 64 KiB segments, ` +
      'HMAC-SHA256 block ids; the passphrase in CONVOY_PASSWORD, so each step also unlocks the key file: one scrypt) ' +
      `and on a plain store, in the same run. cost = encrypted s / plain s − 1 of the median runs (target ≤ ${ENCRYPTION_COST_LIMIT * 100} %); ` +
      "paired cost = the median over runs of each run's encrypted / plain − 1 (steadier when the load changes between runs); " +
      'MiB/s = volume MiB / s (the local incrementals read or skip most of it, so theirs is not a disk rate); ' +
      'CPU = user + system of the step (plain / encrypted), and CPU cost = their ratio − 1 (what encryption adds in work; ' +
      'unlike wall time, hardly moved by other processes on a busy machine); others = CPU seconds other processes used meanwhile (plain / encrypted).',
    '',
    ...markdownTable(
      [
        'step',
        'plain s',
        'encrypted s',
        'cost',
        'paired cost',
        'plain MiB/s',
        'encrypted MiB/s',
        'CPU s plain / enc',
        'CPU cost',
        'others s plain / enc',
      ],
      rows,
    ),
    '',
  ];
}
