// Backup benchmark: Convoy (@convoy/blockstore into an fs object store, zstd) against borg and
// restic on the same generated volume, in the same run: full backup, a scattered 5 % change and an
// incremental backup (Convoy with and without the changed-extent list), and a restore that must
// byte-equal the volume. Every step is a child process under GNU time. See README.md.
//
//   npm run -s bench:backup -w tools/bench -- [--size 1GiB] [--repeat 3] [--tools convoy,borg,restic] [--json] …
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropCaches, run, waitForQuiet } from './backup-exec.js';
import { USAGE, parseOptions, type BenchOptions } from './backup-options.js';
import { handleInterrupts, log, runMain } from './bench-main.js';
import { parseCommandLine } from './cli-args.js';
import {
  CONVOY_TOOLS,
  ConvoyPeer,
  NODE,
  discard,
  makePeer,
  type Peer,
  type PeerContext,
  type StepId,
  type StepResult,
  type ToolName,
} from './backup-peers.js';
import { evaluateTargets, formatReport, type RunMeta } from './backup-report.js';
import { snapshotSources, type SourceSnapshot } from './backup-snapshot.js';
import { REGION_BYTES, blocksTouched, changeVolume, planVolume, sha256File, writeVolume, type VolumeLayout } from './backup-volume.js';

const MiB = 1024 * 1024;
const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<number> {
  const options = parseCommandLine('backup.ts', USAGE, parseOptions);
  if (typeof options === 'number') return options;
  const interrupt = handleInterrupts();

  const install = spawnSync('sh', [path.join(BENCH_DIR, 'install-peers.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (install.status !== 0) throw new Error('install-peers.sh failed: borg, restic or GNU time is missing and could not be installed');

  await mkdir(options.dir, { recursive: true });
  const work = await mkdtemp(path.join(path.resolve(options.dir), 'convoy-bench-backup-'));
  log(`scratch directory ${work}`);
  try {
    const convoy = await snapshotSources(path.join(work, 'convoy-src'));
    log(`Convoy sources frozen for this run (${convoy.revision}) in ${convoy.root}`);
    for (const tool of options.tools.filter((t) => CONVOY_TOOLS.includes(t))) {
      const smoke = await smokeTest(tool, convoy, interrupt.signal);
      if (smoke !== undefined) {
        log(`${tool} does not start, left out of this run: ${smoke}`);
        options.tools = options.tools.filter((t) => t !== tool);
      }
    }
    const layout = planVolume(options.size, options.seed);
    const runs: RunOutcome[] = [];
    for (let i = 0; i < options.repeat; i++) {
      if (options.repeat > 1) log(`run ${i + 1} of ${options.repeat}`);
      const dir = path.join(work, `run-${i + 1}`);
      await mkdir(dir);
      runs.push(await runOnce(options, layout, dir, convoy, interrupt.signal));
      if (!options.keep) await rm(dir, { recursive: true, force: true });
    }
    const results = medianRuns(runs.flatMap((r) => r.results));
    const first = runs[0] as RunOutcome;
    const meta = await describe(
      options,
      layout,
      first,
      runs.every((r) => r.cacheDropped),
      convoy,
      interrupt.signal,
    );
    const targets = evaluateTargets(results);
    const report = formatReport(meta, results, options.tools, targets);
    if (options.json) {
      const strip = ({ stdout: _stdout, ...r }: StepResult): Omit<StepResult, 'stdout'> => r;
      process.stdout.write(
        `${JSON.stringify({ meta, results: results.map(strip), targets, samples: runs.map((r) => r.results.map(strip)) }, null, 2)}\n`,
      );
      process.stderr.write(`\n${report}`); // the tables too, for the one reading along
    } else {
      process.stdout.write(report);
    }
    return 0;
  } catch (err) {
    return interrupt.exitCode(err, 'interrupted');
  } finally {
    interrupt.stop();
    if (options.keep) log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

interface RunOutcome {
  results: StepResult[];
  changedExtents: number;
  changedBlocks: number;
  cacheDropped: boolean;
}

/** One complete run (volume, full backups, change, incrementals, restores) in its own directory. */
/** Starts a Convoy frontend once without measuring it; answers why it failed, or undefined. */
async function smokeTest(tool: ToolName, src: SourceSnapshot, signal: AbortSignal): Promise<string | undefined> {
  const entry = tool === 'convoy-cli' ? [src.cliMain, '--help'] : [src.runner, 'help'];
  try {
    const { code, stderr } = await run(NODE, ['--conditions=@convoy/source', '--import', src.sourceResolve, ...entry], {
      cwd: path.dirname(src.runner),
      signal,
    });
    // Both import everything before they answer --help / help.
    if (code === 0) return undefined;
    return stderr.trim().split('\n').slice(0, 3).join(' / ');
  } catch (err) {
    return String(err);
  }
}

async function runOnce(
  options: BenchOptions,
  layout: VolumeLayout,
  work: string,
  convoy: SourceSnapshot,
  signal: AbortSignal,
): Promise<RunOutcome> {
  const dataDir = path.join(work, 'data');
  await mkdir(dataDir);
  const volumeFile = path.join(dataDir, 'volume.img');
  const changedFile = path.join(work, 'changed.json');
  const count = (k: string): number => layout.regions.filter((r) => r === k).length;
  log(
    `writing a ${(options.size / MiB).toFixed(0)} MiB volume (${count('random')} random, ${count('text')} text, ${count('zero')} zero regions)`,
  );
  const started = performance.now();
  await writeVolume(volumeFile, layout);
  log(`volume written in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const ctx: PeerContext = { work, volumeFile, changedFile, convoy, convoyConcurrency: options.concurrency, signal, log };
  const peers: Peer[] = options.tools.map((t) => makePeer(t, ctx));
  for (const peer of peers) await peer.init();

  let cacheDropped = !options.warm;
  const prepare = async (what: string): Promise<void> => {
    if (options.quietWaitSeconds > 0) {
      const busy = await waitForQuiet(options.quietCpus, options.quietWaitSeconds, signal);
      if (busy >= options.quietCpus)
        log(`${what}: other processes still use ${busy.toFixed(2)} CPUs after ${options.quietWaitSeconds} s; measuring anyway`);
    }
    if (options.warm) return;
    if (!(await dropCaches(signal))) {
      if (cacheDropped) log('cannot drop the page cache (not root?): all tools read from a warm cache alike');
      cacheDropped = false;
    }
  };
  const results: StepResult[] = [];
  const measureStep = async (peer: Peer, step: StepId, fn: () => Promise<StepResult>): Promise<StepResult> => {
    await prepare(`${peer.name} ${step}`);
    const r = await fn();
    log(
      `${r.tool} ${r.step}: ${r.seconds.toFixed(2)} s (tool ${r.toolSeconds.toFixed(2)} + sync ${r.syncSeconds.toFixed(2)}), ` +
        `cpu ${(r.userSeconds + r.systemSeconds).toFixed(2)} s, peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MB, stored ${(r.storedBytes / 1e6).toFixed(1)} MB` +
        (r.otherCpuSeconds > 0.2 * r.toolSeconds ? `; other processes used ${r.otherCpuSeconds.toFixed(1)} CPU s meanwhile` : ''),
    );
    return r;
  };

  for (const peer of peers) results.push(await measureStep(peer, 'full', () => peer.step('full')));

  log(`changing ${options.changePercent} % of the volume`);
  const extents = await changeVolume(volumeFile, layout, options.changePercent / 100);
  await writeFile(changedFile, `[${extents.map((e) => `[${e.offset},${e.length}]`).join(',\n')}]\n`);
  const changedBlocks = blocksTouched(extents, REGION_BYTES);
  log(
    `${extents.length} extents of 64 KiB changed, touching ${changedBlocks} of ${layout.regions.length} 2 MiB blocks; list in ${changedFile}`,
  );
  const expected = await sha256File(volumeFile);

  for (const peer of peers) {
    for (const step of peer.incrementalSteps) {
      if (step !== 'restore') results.push(await measureStep(peer, step, () => peer.step(step)));
    }
  }

  const verify = async (r: StepResult): Promise<void> => {
    const file = r.restored ?? '(none)';
    const actual = await sha256File(file).catch((err: unknown) => `unreadable: ${String(err)}`);
    await discard(file);
    if (actual !== expected)
      throw new Error(`${r.tool} restored ${file} with sha256 ${actual}, but the volume has ${expected}: a wrong restore fails the bench`);
    log(`${r.tool} restore verified: sha256 ${expected.slice(0, 16)}… equal to the volume`);
  };
  for (const peer of peers) {
    const target = path.join(work, `restore-${peer.name}`);
    await mkdir(target);
    const r = await measureStep(peer, 'restore', () => peer.restore(target));
    await verify(r);
    results.push(r);
    if (peer instanceof ConvoyPeer) {
      // The no-change-list backup must be right as well (checked, not in the table).
      const again = path.join(work, `restore-${peer.name}-rehash`);
      await mkdir(again);
      await verify(await peer.restoreRehashed(again));
    }
  }
  return { results, changedExtents: extents.length, changedBlocks, cacheDropped };
}

/** Per tool and step, the run with the median time (all its figures, so they stay consistent). */
function medianRuns(all: readonly StepResult[]): StepResult[] {
  const groups = new Map<string, StepResult[]>();
  for (const r of all) {
    const key = `${r.tool}/${r.step}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const sorted = [...rs].sort((a, b) => a.seconds - b.seconds);
    return sorted[Math.floor((sorted.length - 1) / 2)] as StepResult;
  });
}

async function describe(
  options: BenchOptions,
  layout: VolumeLayout,
  first: RunOutcome,
  cacheDropped: boolean,
  convoy: SourceSnapshot,
  signal: AbortSignal,
): Promise<RunMeta> {
  const count = (k: string): number => layout.regions.filter((r) => r === k).length;
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    volumeBytes: options.size,
    seed: options.seed,
    changedPercent: options.changePercent,
    changedExtents: first.changedExtents,
    changedBlocks: first.changedBlocks,
    regions: { random: count('random'), text: count('text'), zero: count('zero') },
    cacheDropped,
    repeat: options.repeat,
    versions: await versions(options.tools, signal),
    convoyFrontend:
      '`convoy` = @convoy/blockstore backupVolume/restoreBackup with FileSource into an FsObjectStore (vfs), zstd, ' +
      `concurrency ${options.concurrency ?? 'default (6)'}, via backup-convoy-runner.ts; ` +
      '`convoy-cli` = the convoy-backup CLI (apps/backup) `create … --dest vfs://… [--changed F] --json -q` / `restore URL TARGET`; ' +
      `both run from TypeScript sources (Node type stripping, --conditions=@convoy/source), frozen at the start of the run: ${convoy.revision}.`,
    command: `npm run -s bench:backup -w tools/bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  };
}

async function versions(tools: readonly ToolName[], signal: AbortSignal): Promise<Partial<Record<ToolName, string>>> {
  const out: Partial<Record<ToolName, string>> = {};
  for (const tool of tools) {
    if (CONVOY_TOOLS.includes(tool)) continue;
    const { stdout } = await run(tool, tool === 'borg' ? ['--version'] : ['version'], { signal });
    out[tool] = stdout
      .trim()
      .replace(/^(borg|restic) /, '')
      .replace(/ compiled with .*/, '');
  }
  return out;
}

runMain(main);
