// Directory benchmark (issue 12): one generated tree backed up by convoy-backup, borg and restic
// in the same run — full backup, incremental after 1 % of the small files changed (scattered) and
// 1 MiB appended to a large file, restore of everything, restore of one file. Reports wall time,
// peak RSS, bytes the repository grew by and objects (files) it gained. Restores are checked with
// `diff -r`. Not a test: nothing asserts on time.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from './backup-exec.js';
import { parseCommandLine, UsageError } from './cli-args.js';
import { changeTree, generateTree, smallPath, type TreeSpec } from './dir-tree.js';
import { DIR_TOOLS, makeDirPeer, type DirStepResult, type DirTool } from './dir-peers.js';

const USAGE = `usage: npm run bench:dir -w tools/bench -- [--files 20000] [--large 4] [--large-size 64MiB]
    [--tools convoy,borg,restic] [--built] [--work DIR] [--keep] [--json]
  --built: run convoy-backup from its build (apps/backup/dist: npx nx run @convoy/backup-cli:build),
           not from the TypeScript sources (which cost ~1.4 s and ~120 MB RSS to load)`;

interface Options {
  spec: TreeSpec;
  tools: DirTool[];
  work: string | undefined;
  keep: boolean;
  json: boolean;
  built: boolean;
}

function parseSize(v: string): number {
  const m = /^(\d+)(KiB|MiB|GiB)?$/.exec(v);
  if (m === null) throw new UsageError(`bad size ${v}`);
  return Number(m[1]) * ({ KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[2] ?? ''] ?? 1);
}

function parse(argv: string[]): Options | 'help' {
  const o: Options = {
    spec: { files: 20000, largeFiles: 4, largeBytes: 64 * 1024 * 1024, seed: 12 },
    tools: [...DIR_TOOLS],
    work: undefined,
    keep: false,
    json: false,
    built: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--help') return 'help';
    else if (a === '--files') o.spec.files = Number(val());
    else if (a === '--large') o.spec.largeFiles = Number(val());
    else if (a === '--large-size') o.spec.largeBytes = parseSize(val());
    else if (a === '--tools') o.tools = val().split(',') as DirTool[];
    else if (a === '--work') o.work = val();
    else if (a === '--keep') o.keep = true;
    else if (a === '--built') o.built = true;
    else if (a === '--json') o.json = true;
    else throw new UsageError(`unknown option ${a}`);
  }
  for (const t of o.tools) if (!DIR_TOOLS.includes(t)) throw new UsageError(`unknown tool ${t}`);
  return o;
}

async function diffTrees(a: string, b: string, signal: AbortSignal): Promise<void> {
  const { code, stdout } = await run('diff', ['-r', '--no-dereference', a, b], { signal });
  if (code !== 0) throw new Error(`restored tree differs from the source: ${stdout.slice(0, 2000)}`);
}

async function main(): Promise<number> {
  const options = parseCommandLine('bench:dir', USAGE, parse);
  if (typeof options === 'number') return options;
  const signal = AbortSignal.any([]);
  const work = options.work ?? (await mkdtemp(path.join(os.tmpdir(), 'convoy-bench-dir-')));
  const tree = path.join(work, 'tree');
  const log = (s: string): void => void process.stderr.write(`bench:dir: ${s}\n`);
  try {
    log(`generating ${options.spec.files} small files + ${options.spec.largeFiles} × ${options.spec.largeBytes} bytes in ${tree}`);
    const treeBytes = await generateTree(tree, options.spec);
    const peers = options.tools.map((t) => makeDirPeer(t, tree, path.join(work, 'repos'), signal, options.built));
    const results: DirStepResult[] = [];
    for (const p of peers) await p.init();
    for (const p of peers) {
      log(`${p.name} full`);
      results.push(await p.backup('full'));
    }
    const change = await changeTree(tree, options.spec);
    log(`changed ${change.filesChanged} files (${change.bytesChanged} bytes)`);
    for (const p of peers) {
      log(`${p.name} incremental`);
      results.push(await p.backup('incremental'));
    }
    const one = smallPath(37); // a changed file
    await mkdir(path.join(work, 'restore'), { recursive: true });
    await mkdir(path.join(work, 'restore-one'), { recursive: true });
    for (const p of peers) {
      log(`${p.name} restore`);
      const r = await p.restore(path.join(work, 'restore', p.name));
      results.push(r);
      await diffTrees(tree, r.restored as string, signal);
      await rm(path.join(work, 'restore', p.name), { recursive: true, force: true });
      log(`${p.name} restore of one file`);
      const r1 = await p.restore(path.join(work, 'restore-one', p.name), one);
      results.push(r1);
      await diffTrees(path.join(tree, one), path.join(r1.restored as string, one), signal);
    }
    report(options, treeBytes, change, results);
    return 0;
  } finally {
    if (!options.keep) await rm(work, { recursive: true, force: true });
  }
}

function report(
  options: Options,
  treeBytes: number,
  change: { filesChanged: number; bytesChanged: number },
  results: DirStepResult[],
): void {
  const prev = new Map<DirTool, DirStepResult>();
  const rows = results.map((r) => {
    const before = r.step === 'full' ? undefined : prev.get(r.tool);
    if (r.step === 'full' || r.step === 'incremental') prev.set(r.tool, r);
    const backup = r.step === 'full' || r.step === 'incremental';
    return {
      tool: r.tool,
      step: r.step,
      seconds: Number(r.seconds.toFixed(2)),
      peakRssMB: Math.round((r.maxRssKiB * 1024) / 1e6),
      bytesAdded: backup ? r.repoBytes - (before?.repoBytes ?? 0) : 0,
      objectsWritten: backup ? r.repoObjects - (before?.repoObjects ?? 0) : 0,
      otherCpuSeconds: Number(r.otherCpuSeconds.toFixed(1)),
    };
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ spec: options.spec, treeBytes, change, loadavg: os.loadavg(), rows })}\n`);
    return;
  }
  const mb = (n: number): string => (n / 1e6).toFixed(n < 1e7 ? 2 : 1);
  const lines = [
    `tree: ${options.spec.files} small files + ${options.spec.largeFiles} × ${mb(options.spec.largeBytes)} MB = ${mb(treeBytes)} MB; change: ${change.filesChanged} files, ${mb(change.bytesChanged)} MB`,
    '',
    '| tool | step | wall s | peak RSS MB | bytes added (MB) | objects written | other CPU s |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.tool} | ${r.step} | ${r.seconds} | ${r.peakRssMB} | ${r.step.startsWith('restore') ? '' : mb(r.bytesAdded)} | ${r.step.startsWith('restore') ? '' : r.objectsWritten} | ${r.otherCpuSeconds} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

process.exitCode = await main();
