// Reads V8 CPU profiles (the .cpuprofile files `node --cpu-prof` writes) and sums where the time
// went: self time (the function itself was on top of the stack) and total time (it was anywhere
// on the stack, counted once per sample however deep the recursion), by function, file or package.
// The command line is cpuprofile-summary.ts.

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** Microseconds since the previous sample (the first: since startTime). */
  timeDeltas: number[];
}

export const GROUPINGS = ['function', 'file', 'package'] as const;
export type Grouping = (typeof GROUPINGS)[number];

export interface Row {
  key: string;
  selfMs: number;
  totalMs: number;
}

export interface Summary {
  /** Wall time the profile covers, ms (endTime − startTime). */
  durationMs: number;
  samples: number;
  rows: Row[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');

/** Parses a .cpuprofile; throws naming `name` and what is wrong when it is not one. */
export function parseProfile(text: string, name: string): CpuProfile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`${name}: not JSON (${(err as Error).message})`);
  }
  const bad = (what: string): never => {
    throw new Error(`${name}: not a V8 CPU profile (${what})`);
  };
  if (!isObj(v)) return bad('not an object');
  if (!Array.isArray(v.nodes)) return bad('no nodes');
  if (!isNumArray(v.samples) || !isNumArray(v.timeDeltas) || v.samples.length !== v.timeDeltas.length) return bad('samples/timeDeltas');
  if (typeof v.startTime !== 'number' || typeof v.endTime !== 'number') return bad('startTime/endTime');
  for (const n of v.nodes as unknown[]) {
    if (!isObj(n) || typeof n.id !== 'number' || !isObj(n.callFrame)) return bad('a node without id or callFrame');
    const f = n.callFrame;
    if (typeof f.functionName !== 'string' || typeof f.url !== 'string' || typeof f.lineNumber !== 'number') return bad('a callFrame');
    if (n.children !== undefined && !isNumArray(n.children)) return bad('a node with bad children');
  }
  return v as unknown as CpuProfile;
}

/** A source path shortened to where it starts to say something (packages/…, node_modules/…). */
export function shortUrl(url: string): string {
  const p = url.replace(/^file:\/\//, '');
  const m = /(?:^|\/)((?:packages|apps|tools|node_modules)\/.*)$/.exec(p);
  return m?.[1] ?? p;
}

/** The package a frame belongs to: @convoy/<name>, apps/<name>, an npm package, node:internal, or V8's own. */
export function packageOf(f: CallFrame): string {
  const url = f.url.replace(/^file:\/\//, '');
  if (url === '') return f.functionName.startsWith('(') ? f.functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  if (url.startsWith('wasm://')) return '(wasm)'; // in Node itself: cjs-module-lexer (importing CommonJS), undici's llhttp
  const nm = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm !== null) return nm[1] as string;
  const own = /(?:^|\/)(packages|apps|tools)\/([^/]+)(?:\/|$)/.exec(url);
  if (own !== null) return own[1] === 'packages' ? `@convoy/${own[2]}` : `${own[1]}/${own[2]}`;
  return url;
}

export function keyOf(f: CallFrame, by: Grouping): string {
  if (by === 'package') return packageOf(f);
  if (by === 'file') return f.url === '' ? packageOf(f) : shortUrl(f.url);
  const name = f.functionName === '' ? '(anonymous)' : f.functionName;
  return f.url === '' ? name : `${name} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

/**
 * Sums self and total time per key over one or more profiles (a process's main thread and its
 * workers, or several runs). A sample lasts until the next one (the last: until endTime), as
 * Chrome DevTools counts it.
 */
export function summarize(profiles: readonly CpuProfile[], by: Grouping): Summary {
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let durationMs = 0;
  let samples = 0;
  for (const p of profiles) {
    durationMs += (p.endTime - p.startTime) / 1000;
    samples += p.samples.length;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    let t = p.startTime;
    const times = p.timeDeltas.map((d) => (t += d));
    for (let i = 0; i < p.samples.length; i++) {
      const ms = ((i + 1 < times.length ? (times[i + 1] as number) : p.endTime) - (times[i] as number)) / 1000;
      let id: number | undefined = p.samples[i];
      const leaf = byId.get(id as number);
      if (leaf === undefined) continue;
      const leafKey = keyOf(leaf.callFrame, by);
      self.set(leafKey, (self.get(leafKey) ?? 0) + ms);
      const seen = new Set<string>();
      while (id !== undefined) {
        const n = byId.get(id);
        if (n === undefined) break;
        const k = keyOf(n.callFrame, by);
        if (!seen.has(k) && k !== '(root)') {
          seen.add(k);
          total.set(k, (total.get(k) ?? 0) + ms);
        }
        id = parent.get(id);
      }
    }
  }
  const rows = [...total.entries()].map(([key, totalMs]) => ({ key, selfMs: self.get(key) ?? 0, totalMs }));
  rows.sort((a, b) => b.selfMs - a.selfMs || b.totalMs - a.totalMs);
  return { durationMs, samples, rows };
}

/** The summary as a Markdown table of the `top` rows by self time, with shares of the profiled time. */
export function formatSummary(s: Summary, top: number, by: Grouping): string {
  const pct = (ms: number): string => `${((100 * ms) / Math.max(s.durationMs, 1e-9)).toFixed(1)} %`;
  const rows = s.rows.slice(0, top).map((r) => [r.selfMs.toFixed(0), pct(r.selfMs), r.totalMs.toFixed(0), pct(r.totalMs), r.key]);
  const header = ['self ms', 'self', 'total ms', 'total', by];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === widths.length - 1 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [
    `${s.samples} samples over ${(s.durationMs / 1000).toFixed(2)} s of profiled thread time; shares of that time; top ${Math.min(top, s.rows.length)} of ${s.rows.length} by self time`,
    '',
    line(header),
    rule,
    ...rows.map(line),
    '',
  ].join('\n');
}
