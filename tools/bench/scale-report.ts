// The Markdown tables of tools/bench/scale.ts.
import type { SizeResult } from './scale-run.js';

const MB = 1e6;

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= MB) return `${(n / MB).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

const int = (n: number): string => n.toLocaleString('en-US');
const mb = (n: number): string => (n / MB).toFixed(0);

function table(header: string[], rows: string[][], leftColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < leftColumns ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function formatStoreTable(results: readonly SizeResult[]): string {
  const header = [
    'size',
    'volumes',
    'backups',
    'block refs',
    'distinct blocks',
    'other objects',
    'index runs/shard',
    'populate s',
    'of which quick maintenance s',
    'RSS MB',
  ];
  const rows = results.map((r) => [
    String(r.scale),
    int(r.store.volumes),
    int(r.store.backups),
    int(r.store.blockRefs),
    int(r.store.distinctBlocks),
    int(r.store.objects),
    `${r.store.runsPerShard[0]}–${r.store.runsPerShard[1]}`,
    r.store.populateSeconds.toFixed(1),
    `${r.store.populate.seconds.maintenance.toFixed(1)} (${r.store.populate.maintenance.runs} runs)`,
    mb(r.store.rssAfterPopulate),
  ]);
  return table(header, rows);
}

export function formatOperationsTable(results: readonly SizeResult[]): string {
  const header = [
    'size',
    'operation',
    'get',
    'put',
    'stat',
    'list',
    'delete',
    'keys deleted',
    'distinct read',
    'read',
    'written',
    'index records merged',
    'peak RSS MB',
    'ΔRSS MB',
    's',
  ];
  const rows: string[][] = [];
  for (const r of results) {
    for (const op of r.operations) {
      const name = {
        'one delete': 'one delete',
        'other deletes': `${r.deletes - 1} more deletes`,
        'quick maintenance': `quick maintenance after ${r.deletes} deletes`,
        'full maintenance': 'full maintenance (marks)',
        'full maintenance again': 'full maintenance again (deletes)',
      }[op.operation];
      const merged = (op.detail as { merge?: { recordsMerged: number } } | undefined)?.merge?.recordsMerged;
      rows.push([
        String(r.scale),
        name,
        int(op.requests.get),
        int(op.requests.put),
        int(op.requests.stat),
        int(op.requests.list),
        int(op.requests.delete),
        int(op.keysDeleted),
        int(op.distinctRead),
        formatBytes(op.bytesRead),
        formatBytes(op.bytesWritten),
        merged === undefined ? '' : int(merged),
        mb(op.rss.peak),
        mb(op.rss.peak - op.rss.before),
        op.seconds.toFixed(op.seconds < 10 ? 2 : 1),
      ]);
    }
  }
  return table(header, rows, 2);
}
