// Backup benchmark: Convoy (@convoy/blockstore into an fs object store, zstd) against borg and
// restic on the same generated volume, in the same run: full backup, a scattered 5 % change and an
// incremental backup (Convoy with and without the changed-extent list), and a restore that must
// byte-equal the volume. Then the S3 rows (raw SDK PUT/GET rates beside Convoy's backup to and
// restore from s3://, one radosgw for the run: backup-s3.ts) and the large sparse volume (peak
// RSS at 64 GiB: backup-big.ts). convoy-cli-enc is the CLI on encrypted stores; what encryption
// costs over convoy-cli, step by step: backup-report-enc.ts. Every step is a child process under
// GNU time. See README.md.
//
//   npm run -s bench:backup -w tools/bench -- [--size 1GiB] [--repeat 3] [--tools convoy,borg,restic]
//       [--s3 on|off] [--big 64GiB|off] [--profile DIR] [--json] …
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { smokeTest } from './backup-convoy.js';
import { describe } from './backup-describe.js';
import { StepPreparer } from './backup-exec.js';
import { USAGE, parseOptions, type BenchOptions } from './backup-options.js';
import { handleInterrupts, log, runMain } from './bench-main.js';
import { parseCommandLine } from './cli-args.js';
import { ConvoyPeer, discard, isConvoy, makePeer, type Peer, type PeerContext, type StepId, type StepResult } from './backup-peers.js';
import { runBigPhase, runS3Phase, type BigPhase, type PhaseContext, type S3Phase } from './backup-phases.js';
import { evaluateTargets, formatReport, medianBy } from './backup-report.js';
import { evaluateBigTargets, evaluateS3Targets, formatBig, formatS3 } from './backup-report-s3.js';
import { encryptionCosts, evaluateEncryptionTargets, formatEncryption } from './backup-report-enc.js';
import { snapshotSources, type SourceSnapshot } from './backup-snapshot.js';
import { REGION_BYTES, blocksTouched, changeVolume, planVolume, sha256File, writeVolume, type VolumeLayout } from './backup-volume.js';

const MiB = 1024 * 1024;
const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<number> {
  const options = parseCommandLine('backup.ts', USAGE, parseOptions);
  if (typeof options === 'number') return options;
  const exitCleanups: (() => void)[] = [];
  const interrupt = handleInterrupts(() => exitCleanups.forEach((stop) => stop()));
  const onExit = (): void => exitCleanups.forEach((stop) => stop());
  process.on('exit', onExit);

  const install = spawnSync('sh', [path.join(BENCH_DIR, 'install-peers.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (install.status !== 0) throw new Error('install-peers.sh failed: borg, restic or GNU time is missing and could not be installed');

  await mkdir(options.dir, { recursive: true });
  const work = await mkdtemp(path.join(path.resolve(options.dir), 'convoy-bench-backup-'));
  log(`scratch directory ${work}`);
  try {
    const convoy = await snapshotSources(path.join(work, 'convoy-src'));
    log(`Convoy sources frozen for this run (${convoy.revision}) in ${convoy.root}`);
    for (const tool of options.tools.filter(isConvoy)) {
      const smoke = await smokeTest({
        src: convoy,
        frontend: tool,
        concurrency: undefined,
        profileDir: undefined,
        signal: interrupt.signal,
      });
      if (smoke !== undefined) {
        log(`${tool} does not start, left out of this run: ${smoke}`);
        options.tools = options.tools.filter((t) => t !== tool);
      }
    }
    if (options.profileDir !== undefined)
      log(`Convoy steps write CPU profiles under ${options.profileDir} (--cpu-prof): their times are inflated`);
    const layout = planVolume(options.size, options.seed);
    const preparer = new StepPreparer(options, interrupt.signal, log);
    const runs: RunOutcome[] = [];
    for (let i = 0; i < options.repeat; i++) {
      if (options.repeat > 1) log(`run ${i + 1} of ${options.repeat}`);
      const dir = path.join(work, `run-${i + 1}`);
      await mkdir(dir);
      runs.push(await runOnce(options, layout, dir, convoy, preparer.prepare, interrupt.signal));
      if (!options.keep) await rm(dir, { recursive: true, force: true });
    }
    const results = medianBy(
      runs.flatMap((r) => r.results),
      (r) => `${r.tool}/${r.step}`,
      (r) => r.seconds,
    );
    const frontends = options.tools.filter(isConvoy);
    const phase: PhaseContext = {
      options,
      work,
      frontends,
      src: convoy,
      prepare: preparer.prepare,
      log,
      onExit: (stop) => exitCleanups.push(stop),
      signal: interrupt.signal,
    };
    let s3: S3Phase | undefined;
    if (options.s3 && frontends.length > 0) s3 = await runS3Phase(phase);
    let big: BigPhase | undefined;
    if (options.bigSize !== undefined && frontends.length > 0) big = await runBigPhase(phase, layout, options.bigSize);
    const first = runs[0] as RunOutcome;
    const meta = await describe(
      { options, layout, ...first, cacheDropped: preparer.cacheDropped, convoy, s3: s3?.meta, big: big?.meta },
      interrupt.signal,
    );
    const encryption = encryptionCosts(
      results,
      runs.map((r) => r.results),
      options.size,
      s3,
    );
    const targets = [
      ...evaluateTargets(results),
      ...evaluateS3Targets(s3, frontends),
      ...evaluateBigTargets(big, results, frontends),
      ...evaluateEncryptionTargets(encryption),
    ];
    const extra = [...formatS3(s3, frontends), ...formatEncryption(encryption), ...formatBig(big, results, frontends)];
    const report = formatReport(meta, results, options.tools, targets, extra);
    if (options.json) {
      const strip = ({ stdout: _stdout, ...r }: StepResult): Omit<StepResult, 'stdout'> => r;
      const json = {
        meta,
        results: results.map(strip),
        s3: s3?.runs,
        big: big?.runs,
        encryption,
        targets,
        samples: runs.map((r) => r.results.map(strip)),
      };
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      process.stderr.write(`\n${report}`); // the tables too, for the one reading along
    } else {
      process.stdout.write(report);
    }
    return 0;
  } catch (err) {
    return interrupt.exitCode(err, 'interrupted');
  } finally {
    interrupt.stop();
    process.off('exit', onExit);
    if (options.keep) log(`kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

interface RunOutcome {
  results: StepResult[];
  changedExtents: number;
  changedBlocks: number;
}

/** One complete run (volume, full backups, change, incrementals, restores) in its own directory. */
async function runOnce(
  options: BenchOptions,
  layout: VolumeLayout,
  work: string,
  convoy: SourceSnapshot,
  prepare: (what: string) => Promise<void>,
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

  const ctx: PeerContext = {
    work,
    volumeFile,
    changedFile,
    convoy,
    convoyConcurrency: options.concurrency,
    profileDir: options.profileDir,
    signal,
    log,
  };
  const peers: Peer[] = options.tools.map((t) => makePeer(t, ctx));
  for (const peer of peers) await peer.init();

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
  return { results, changedExtents: extents.length, changedBlocks };
}

runMain(main);
