// The backup benchmark's output: the side-by-side table (Convoy | borg | restic per step, with
// Convoy/borg ratios), a CPU table, and the project's targets checked against the measurements.
// The S3 and large-volume rows: backup-report-s3.ts.
import { CONVOY_TOOLS, isConvoy, type StepId, type StepResult, type ToolName } from './backup-peers.js';
import type { BigMeta, S3Meta } from './backup-phases.js';

const MB = 1e6;

export interface RunMeta {
  date: string;
  node: string;
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  kernel: string;
  volumeBytes: number;
  seed: string;
  changedPercent: number;
  changedExtents: number;
  /** How many of the volume's 2 MiB blocks the change touched. */
  changedBlocks: number;
  regions: { random: number; text: number; zero: number };
  cacheDropped: boolean;
  /** Runs made; each figure is from the run with the median time for that tool and step. */
  repeat: number;
  versions: Partial<Record<ToolName, string>>;
  convoyFrontend: string;
  command: string;
  /** The S3 rows' server and settings (absent with --s3 off). */
  s3?: S3Meta;
  /** The large sparse volume (absent with --big off). */
  big?: BigMeta;
  /** Where --profile put the Convoy steps' CPU profiles. */
  profileDir?: string;
}

/** A table row: which step of Convoy (library and CLI) and of the peers fills the row's cells. */
interface Row {
  label: string;
  convoy: StepId;
  peers: StepId;
}

const ROWS: Row[] = [
  { label: 'full backup', convoy: 'full', peers: 'full' },
  { label: 'incremental, Convoy with change list', convoy: 'incremental-changed', peers: 'incremental' },
  { label: 'incremental, Convoy re-reading all ¹', convoy: 'incremental', peers: 'incremental' },
  { label: 'restore newest to a new file', convoy: 'restore', peers: 'restore' },
];

const stepOf = (row: Row, tool: ToolName): StepId => (isConvoy(tool) ? row.convoy : row.peers);

export interface Target {
  name: string;
  limit: string;
  measured: string;
  met: boolean | undefined;
}

export function find(results: readonly StepResult[], tool: ToolName, step: StepId): StepResult | undefined {
  return results.find((r) => r.tool === tool && r.step === step);
}

const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

/** The project's targets, for each Convoy frontend that ran (the library and the CLI). */
export function evaluateTargets(results: readonly StepResult[]): Target[] {
  const t = (tool: ToolName, step: StepId): StepResult | undefined => find(results, tool, step);
  const out: Target[] = [];
  for (const convoy of CONVOY_TOOLS) {
    const mine = results.filter((r) => r.tool === convoy);
    if (mine.length === 0) continue;
    const ratioTarget = (name: string, limit: number, a: number | undefined, b: number | undefined): void => {
      const r = ratio(a, b);
      out.push({
        name: `${convoy}: ${name}`,
        limit: `≤ ${limit}× borg`,
        measured: r === undefined ? 'n/a' : `${r.toFixed(2)}× (${fmt(a, 2)} s vs ${fmt(b, 2)} s)`,
        met: r === undefined ? undefined : r <= limit,
      });
    };
    ratioTarget('full backup time', 0.5, t(convoy, 'full')?.seconds, t('borg', 'full')?.seconds);
    ratioTarget('incremental re-reading all', 0.3, t(convoy, 'incremental')?.seconds, t('borg', 'incremental')?.seconds);
    ratioTarget('restore time', 0.5, t(convoy, 'restore')?.seconds, t('borg', 'restore')?.seconds);
    ratioTarget('incremental with change list', 0.1, t(convoy, 'incremental-changed')?.seconds, t('borg', 'incremental')?.seconds);
    const storedTarget = (name: string, a: number | undefined, b: number | undefined): void => {
      const r = ratio(a, b);
      const mb = (n: number | undefined): string => fmt(n === undefined ? undefined : n / MB, 1);
      out.push({
        name: `${convoy}: ${name}`,
        limit: '≤ borg',
        measured: r === undefined ? 'n/a' : `${r.toFixed(3)}× (${mb(a)} MB vs ${mb(b)} MB)`,
        met: r === undefined ? undefined : r <= 1,
      });
    };
    storedTarget('bytes stored after full backup', t(convoy, 'full')?.storedBytes, t('borg', 'full')?.storedBytes);
    storedTarget(
      'bytes stored after incremental (change list)',
      t(convoy, 'incremental-changed')?.storedBytes,
      t('borg', 'incremental')?.storedBytes,
    );
    const peak = Math.max(...mine.map((r) => r.maxRssKiB / 1024));
    out.push({ name: `${convoy}: peak RSS (any step)`, limit: '≤ 100 MB', measured: `${peak.toFixed(0)} MB`, met: peak <= 100 });
  }
  return out;
}

function fmt(n: number | undefined, digits: number): string {
  return n === undefined ? '—' : n.toFixed(digits);
}

/** Per key, the item with the median value (all its figures, so they stay consistent). */
export function medianBy<T>(items: readonly T[], key: (t: T) => string, value: (t: T) => number): T[] {
  const groups = new Map<string, T[]>();
  for (const t of items) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  return [...groups.values()].map((ts) => {
    const sorted = [...ts].sort((a, b) => value(a) - value(b));
    return sorted[Math.floor((sorted.length - 1) / 2)] as T;
  });
}

export function markdownTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)];
}

export function formatReport(
  meta: RunMeta,
  results: readonly StepResult[],
  tools: readonly ToolName[],
  targets: readonly Target[],
  extra: readonly string[] = [],
): string {
  const out: string[] = [];
  const gib = meta.volumeBytes / 1024 ** 3;
  out.push(
    `Volume: ${gib.toFixed(2)} GiB (${meta.regions.random} random, ${meta.regions.text} text, ${meta.regions.zero} zero regions of 2 MiB), seed ${JSON.stringify(meta.seed)}; ` +
      `change: ${meta.changedPercent} % in ${meta.changedExtents} × 64 KiB, touching ${meta.changedBlocks} of ${Math.ceil(meta.volumeBytes / (2 * 1024 * 1024))} 2 MiB blocks.`,
    `Machine: ${meta.cpus} × ${meta.cpuModel}, ${(meta.memoryBytes / 1024 ** 3).toFixed(0)} GiB RAM, Linux ${meta.kernel}; Node ${meta.node}; ` +
      `${Object.entries(meta.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
    `Page cache ${meta.cacheDropped ? 'dropped before every step (cold reads)' : 'NOT dropped (could not write /proc/sys/vm/drop_caches): every tool read from a warm cache alike'}. ` +
      `Time = the tool's wall time + a sync after it${meta.repeat > 1 ? `, median of ${meta.repeat} runs` : ''}. RSS = peak resident set (GNU time %M). ` +
      'Stored = du -sb of the repository after the step. MB = 10^6 bytes.',
    `Convoy: ${meta.convoyFrontend}`,
    '',
  );
  const header = ['step'];
  for (const tool of tools) header.push(`${tool} s`, `${tool} RSS MB`, `${tool} stored MB`);
  const ratioTools = tools.includes('borg') ? CONVOY_TOOLS.filter((c) => tools.includes(c)) : [];
  for (const c of ratioTools) header.push(`${c}/borg time`, 'RSS', 'stored');
  const rows = ROWS.map((row) => {
    const cells = [row.label];
    for (const tool of tools) {
      const r = find(results, tool, stepOf(row, tool));
      cells.push(
        fmt(r?.seconds, 2),
        fmt(r === undefined ? undefined : r.maxRssKiB / 1024, 0),
        fmt(r === undefined ? undefined : r.storedBytes / MB, 1),
      );
    }
    for (const c of ratioTools) {
      const r = find(results, c, row.convoy);
      const b = find(results, 'borg', row.peers);
      cells.push(
        fmt(ratio(r?.seconds, b?.seconds), 2),
        fmt(ratio(r?.maxRssKiB, b?.maxRssKiB), 2),
        fmt(ratio(r?.storedBytes, b?.storedBytes), 2),
      );
    }
    return cells;
  });
  out.push(...markdownTable(header, rows));
  out.push(
    '',
    '¹ borg and restic have no change list: their cells in both incremental rows are the same run (they re-read and re-chunk the whole file). ' +
      "Convoy's two incrementals start from copies of the same full-backup store, so each uploads what is new.",
    '',
    'CPU seconds (user + system) of each tool, the sync after it, and the CPU seconds other processes on the machine used meanwhile (noise):',
    '',
  );
  const cpuHeader = ['step', ...tools.flatMap((tool) => [`${tool} user s`, `${tool} sys s`, `${tool} sync s`, `${tool} others s`])];
  const cpuRows = ROWS.map((row) => [
    row.label,
    ...tools.flatMap((tool) => {
      const r = find(results, tool, stepOf(row, tool));
      return [fmt(r?.userSeconds, 2), fmt(r?.systemSeconds, 2), fmt(r?.syncSeconds, 2), fmt(r?.otherCpuSeconds, 1)];
    }),
  ]);
  out.push(...markdownTable(cpuHeader, cpuRows), '', ...extra, 'Targets:', '');
  out.push(
    ...markdownTable(
      ['target', 'limit', 'measured', 'met'],
      targets.map((t) => [t.name, t.limit, t.measured, t.met === undefined ? 'n/a' : t.met ? 'yes' : 'NO']),
    ),
    '',
  );
  return out.join('\n');
}
