// What the backup bench says about a run besides the numbers: the machine, the volume, the tools'
// versions, how Convoy was run, the command line.
import os from 'node:os';
import { run } from './backup-exec.js';
import type { BenchOptions } from './backup-options.js';
import { isConvoy, type ToolName } from './backup-peers.js';
import type { BigMeta, S3Meta } from './backup-phases.js';
import type { RunMeta } from './backup-report.js';
import type { SourceSnapshot } from './backup-snapshot.js';
import type { VolumeLayout } from './backup-volume.js';

export async function describe(
  r: {
    options: BenchOptions;
    layout: VolumeLayout;
    changedExtents: number;
    changedBlocks: number;
    cacheDropped: boolean;
    convoy: SourceSnapshot;
    s3: S3Meta | undefined;
    big: BigMeta | undefined;
  },
  signal: AbortSignal,
): Promise<RunMeta> {
  const { options, layout } = r;
  const count = (k: string): number => layout.regions.filter((x) => x === k).length;
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
    changedExtents: r.changedExtents,
    changedBlocks: r.changedBlocks,
    regions: { random: count('random'), text: count('text'), zero: count('zero') },
    cacheDropped: r.cacheDropped,
    repeat: options.repeat,
    versions: await versions(options.tools, signal),
    convoyFrontend:
      '`convoy` = @convoy/blockstore backupVolume/restoreBackup with FileSource into an FsObjectStore (vfs), zstd, ' +
      `concurrency ${options.concurrency ?? 'default (6)'}, via backup-convoy-runner.ts; ` +
      '`convoy-cli` = the convoy-backup CLI (apps/backup) `create … --dest vfs://… [--changed F] --json -q` / `restore URL TARGET`; ' +
      "`convoy-cli-enc` = the same on stores created (untimed) by `convoy-backup init STORE --encrypt`, CONVOY_PASSWORD in every step's environment " +
      '(each step unlocks the store: one scrypt of the key file); ' +
      '`convoy-cli*` run the bundle a build makes (tools/bundle-app.mjs), `convoy` the TypeScript sources (Node type stripping, --conditions=@convoy/source); ' +
      `both from a copy of the sources frozen at the start of the run: ${r.convoy.revision}.` +
      (options.profileDir === undefined ? '' : ` Run under --cpu-prof (profiles in ${options.profileDir}): times are inflated.`),
    command: `npm run -s bench:backup -w tools/bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    ...(r.s3 === undefined ? {} : { s3: r.s3 }),
    ...(r.big === undefined ? {} : { big: r.big }),
    ...(options.profileDir === undefined ? {} : { profileDir: options.profileDir }),
  };
}

async function versions(tools: readonly ToolName[], signal: AbortSignal): Promise<Partial<Record<ToolName, string>>> {
  const out: Partial<Record<ToolName, string>> = {};
  for (const tool of tools) {
    if (isConvoy(tool)) continue;
    const { stdout } = await run(tool, tool === 'borg' ? ['--version'] : ['version'], { signal });
    out[tool] = stdout
      .trim()
      .replace(/^(borg|restic) /, '')
      .replace(/ compiled with .*/, '');
  }
  return out;
}
