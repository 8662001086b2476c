// The backup bench's output for the S3 rows (raw SDK rates beside Convoy's backup to and restore
// from s3://) and the large sparse volume (peak RSS at 1 GiB and at 64 GiB), with their targets.
import type { BigStepResult } from './backup-big.js';
import type { ConvoyFrontend, StepResult } from './backup-peers.js';
import type { BigPhase, S3Phase } from './backup-phases.js';
import { find, markdownTable, medianBy, type Target } from './backup-report.js';
import type { S3StepResult } from './backup-s3.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
/** Peak RSS target of issue 13, for backup and restore, at any volume size. */
export const RSS_LIMIT_MB = 100;
/** "Flat": the large volume's peak RSS within this factor of the 1 GiB volume's. */
const FLAT_FACTOR = 1.1;

/** Per frontend and step, the median run (by time); raw rates: the median of the runs. */
export function s3Medians(phase: S3Phase): { put: number; get: number; steps: S3StepResult[] } | undefined {
  if (phase.runs.length === 0) return undefined;
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number;
  return {
    put: median(phase.runs.map((r) => r.put.mibPerSec)),
    get: median(phase.runs.map((r) => r.get.mibPerSec)),
    steps: medianBy(
      phase.runs.flatMap((r) => r.steps),
      (r) => `${r.tool}/${r.step}`,
      (r) => r.seconds,
    ),
  };
}

export function bigMedians(phase: BigPhase): BigStepResult[] {
  return medianBy(
    phase.runs.flat(),
    (r) => `${r.tool}/${r.step}`,
    (r) => r.seconds,
  );
}

/** 64 GiB, 1 GiB, 64 MiB: a size as the command line gives it. */
const size = (bytes: number): string => (bytes >= GiB ? `${+(bytes / GiB).toFixed(2)} GiB` : `${+(bytes / MiB).toFixed(1)} MiB`);

const f = (n: number | undefined, digits: number): string => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits));

export function evaluateS3Targets(phase: S3Phase | undefined, frontends: readonly ConvoyFrontend[]): Target[] {
  const m = phase === undefined ? undefined : s3Medians(phase);
  if (m === undefined) return [];
  const out: Target[] = [];
  for (const fe of frontends) {
    const row = (step: 's3-backup' | 's3-restore', raw: number, limit: number, op: string): void => {
      const r = m.steps.find((s) => s.tool === fe && s.step === step);
      const ratio = r === undefined ? undefined : r.mibPerSec / raw;
      out.push({
        name: `${fe}: S3 ${step === 's3-backup' ? 'backup' : 'restore'} rate`,
        limit: `≥ ${limit}× raw ${op}`,
        measured: ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}× (${f(r?.mibPerSec, 1)} vs ${raw.toFixed(1)} MiB/s)`,
        met: ratio === undefined ? undefined : ratio >= limit,
      });
    };
    row('s3-backup', m.put, 0.8, 'PUT');
    row('s3-restore', m.get, 0.7, 'GET');
  }
  return out;
}

export function evaluateBigTargets(
  phase: BigPhase | undefined,
  local: readonly StepResult[],
  frontends: readonly ConvoyFrontend[],
): Target[] {
  if (phase === undefined) return [];
  const big = bigMedians(phase);
  const out: Target[] = [];
  for (const fe of frontends) {
    const small = (['full', 'restore'] as const).map((step) => find(local, fe, step)?.maxRssKiB);
    const large = big.filter((r) => r.tool === fe).map((r) => r.maxRssKiB);
    if (small.some((x) => x === undefined) || large.length < 2) continue;
    const a = Math.max(...(small as number[])) / 1024;
    const b = Math.max(...large) / 1024;
    out.push({
      name: `${fe}: peak RSS, backup and restore, ${size(phase.meta.dataBytes)} → ${size(phase.meta.fileSize)} volume`,
      limit: `≤ ${RSS_LIMIT_MB} MB, flat (≤ ${FLAT_FACTOR}×)`,
      measured: `${a.toFixed(0)} MB → ${b.toFixed(0)} MB (${(b / a).toFixed(2)}×)`,
      met: a <= RSS_LIMIT_MB && b <= RSS_LIMIT_MB && b <= a * FLAT_FACTOR,
    });
  }
  return out;
}

export function formatS3(phase: S3Phase | undefined, frontends: readonly ConvoyFrontend[]): string[] {
  if (phase === undefined) return [];
  const s = phase.meta.settings;
  if (phase.meta.skipped !== undefined) return [`S3 rows: not run (${phase.meta.skipped}).`, ''];
  const m = s3Medians(phase);
  if (m === undefined) return [];
  const where =
    phase.meta.server === 'radosgw'
      ? 'a Ceph radosgw started for this run on loopback (one in-memory OSD, same 2 cores)'
      : `${phase.meta.endpoint}`;
  const out = [
    `S3 rows: ${where}; ${s.concurrency} requests in flight for the raw rates and for \`convoy\` (blocks and S3 requests); ` +
      '`convoy-cli` and `convoy-cli-enc` run at their defaults (the CLI has no concurrency flag). ' +
      `Raw: ${s.rawCount} × 2 MiB objects of random bytes held in memory, PUT then GET with the AWS SDK v3 S3Client in the bench process ` +
      '(no Convoy code, no hashing, no Content-MD5, no disk, no process start). ' +
      `Convoy: a full backup to s3:// of a ${size(s.volumeBytes)} volume of random bytes (zstd cannot shrink it, so bytes sent ≈ volume bytes; ` +
      "'in bucket' is what was stored) and a restore of it into a new file, each a whole process under GNU time + a sync, reading and writing a cold page cache; " +
      "'start-up' is the frontend's --help under GNU time (Node + Convoy's modules, not the AWS SDK; no sync after it), part of every step's time. " +
      'MiB/s = volume MiB / s. Median run per row.',
    '',
  ];
  const rows: string[][] = [
    [`raw SDK PUT, ${s.rawCount} × 2 MiB`, '', m.put.toFixed(1), '', '', '', '', '', '', ''],
    [`raw SDK GET, ${s.rawCount} × 2 MiB`, '', m.get.toFixed(1), '', '', '', '', '', '', ''],
  ];
  for (const fe of frontends) {
    const startup = m.steps.find((r) => r.tool === fe && r.step === 'start-up');
    for (const step of ['s3-backup', 's3-restore'] as const) {
      const r = m.steps.find((x) => x.tool === fe && x.step === step);
      if (r === undefined) continue;
      const raw = step === 's3-backup' ? m.put : m.get;
      rows.push([
        `${fe} ${step === 's3-backup' ? 'backup to' : 'restore from'} s3://`,
        f(r.seconds, 2),
        f(r.mibPerSec, 1),
        `${(r.mibPerSec / raw).toFixed(2)}× ${step === 's3-backup' ? 'PUT' : 'GET'}`,
        f(startup === undefined ? undefined : r.volumeBytes / MiB / (r.seconds - startup.toolSeconds), 1),
        f(r.maxRssKiB / 1024, 0),
        f(r.storedBytes / MiB, 1),
        f(startup?.toolSeconds, 2),
        `${f(r.userSeconds, 2)} / ${f(r.systemSeconds, 2)}`,
        f(r.otherCpuSeconds, 1),
      ]);
    }
  }
  out.push(
    ...markdownTable(
      ['S3 row', 's', 'MiB/s', 'ratio', 'MiB/s w/o start-up', 'peak RSS MB', 'in bucket MiB', 'start-up s', 'user / sys s', 'others s'],
      rows,
    ),
    '',
  );
  return out;
}

export function formatBig(phase: BigPhase | undefined, local: readonly StepResult[], frontends: readonly ConvoyFrontend[]): string[] {
  if (phase === undefined) return [];
  const big = bigMedians(phase);
  const { fileSize, stride, dataBytes } = phase.meta;
  const out = [
    `Large volume: the ${size(dataBytes)} volume's regions spread over a sparse ${size(fileSize)} file ` +
      `(one 2 MiB region every ${stride / MiB} MiB, holes between), full backup into a new vfs store and restore into a new file, Convoy only ` +
      '(borg and restic are left out of this row: it is about Convoy\'s memory). The restore is checked byte for byte; "allocated" is the restored file\'s st_blocks × 512 ' +
      `(its zero blocks should be holes). The first row of each frontend is its full backup and restore of the ${size(dataBytes)} volume above.`,
    '',
  ];
  const rows: string[][] = [];
  for (const fe of frontends) {
    const cell = (r: { seconds: number; maxRssKiB: number } | undefined): string[] => [
      f(r?.seconds, 2),
      f(r === undefined ? undefined : r.maxRssKiB / 1024, 0),
    ];
    rows.push([fe, size(dataBytes), ...cell(find(local, fe, 'full')), ...cell(find(local, fe, 'restore')), '—', '—']);
    const bf = big.find((r) => r.tool === fe && r.step === 'big-full');
    const br = big.find((r) => r.tool === fe && r.step === 'big-restore');
    if (bf === undefined && br === undefined) continue;
    rows.push([
      fe,
      `${size(fileSize)} sparse`,
      ...cell(bf),
      ...cell(br),
      f(br === undefined ? undefined : br.allocatedBytes / MiB, 0),
      f(bf === undefined ? undefined : bf.storedBytes / 1e6, 1),
    ]);
  }
  out.push(
    ...markdownTable(['frontend', 'volume', 'full backup s', 'RSS MB', 'restore s', 'RSS MB', 'restored allocated MiB', 'stored MB'], rows),
    '',
  );
  return out;
}
