// The backup bench's phases after the local rows: the S3 rows (backup-s3.ts) and the large sparse
// volume (backup-big.ts), each for the Convoy frontends of the run.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ConvoyLaunch } from './backup-convoy.js';
import type { BenchOptions } from './backup-options.js';
import type { ConvoyFrontend } from './backup-peers.js';
import { runBig, spreadOut, type BigStepResult } from './backup-big.js';
import { S3Bench, type S3Run, type S3Settings } from './backup-s3.js';
import type { SourceSnapshot } from './backup-snapshot.js';
import { REGION_BYTES, sha256File, writeVolume, type VolumeLayout } from './backup-volume.js';

export interface PhaseContext {
  options: BenchOptions;
  work: string;
  frontends: readonly ConvoyFrontend[];
  src: SourceSnapshot;
  prepare: (what: string) => Promise<void>;
  log: (line: string) => void;
  /** Registers a synchronous cleanup for process exit and a second Ctrl-C. */
  onExit: (stop: () => void) => void;
  signal: AbortSignal;
}

export interface S3Meta {
  /** radosgw: started for this run on loopback; external: CONVOY_BENCH_S3_ENDPOINT. */
  server: 'radosgw' | 'external' | 'none';
  endpoint: string;
  /** Why there are no S3 rows, when there are none. */
  skipped?: string;
  settings: S3Settings;
}

export interface S3Phase {
  meta: S3Meta;
  runs: S3Run[];
}

/**
 * Writes a volume of random bytes (the 1 GiB volume's random generator, so no block dedups and
 * zstd cannot shrink it: bytes sent ≈ volume bytes), starts one S3 server, and runs the S3 rows
 * --repeat times. A server that does not start leaves the S3 rows out (said in the report); any
 * other failure fails the bench.
 */
export async function runS3Phase(c: PhaseContext): Promise<S3Phase> {
  const o = c.options;
  const settings: S3Settings = { concurrency: o.s3Concurrency, rawCount: o.s3Objects, rawObjectBytes: REGION_BYTES, volumeBytes: o.s3Size };
  const dir = path.join(c.work, 's3');
  await mkdir(dir, { recursive: true });
  const volumeFile = path.join(dir, 'volume.img');
  const layout: VolumeLayout = {
    size: o.s3Size,
    seed: `${o.seed}/s3`,
    regions: Array.from({ length: Math.ceil(o.s3Size / REGION_BYTES) }, () => 'random' as const),
  };
  c.log(`writing a ${(o.s3Size / 2 ** 20).toFixed(0)} MiB volume of random bytes for the S3 rows`);
  await writeVolume(volumeFile, layout);
  const expectedSha256 = await sha256File(volumeFile);
  let bench: S3Bench;
  try {
    bench = await S3Bench.start(settings, c.log, c.onExit, c.signal);
  } catch (err) {
    c.signal.throwIfAborted();
    const skipped = `the S3 server did not start: ${err instanceof Error ? err.message : String(err)}`;
    c.log(`S3 rows left out: ${skipped}`);
    return { meta: { server: 'none', endpoint: '', skipped, settings }, runs: [] };
  }
  const runs: S3Run[] = [];
  try {
    for (let i = 0; i < o.repeat; i++) {
      if (o.repeat > 1) c.log(`S3 run ${i + 1} of ${o.repeat}`);
      runs.push(
        await bench.runOnce(
          {
            run: i + 1,
            work: dir,
            volumeFile,
            expectedSha256,
            frontends: c.frontends,
            src: c.src,
            profileDir: o.profileDir,
            prepare: c.prepare,
            log: c.log,
          },
          settings,
          c.signal,
        ),
      );
    }
  } finally {
    await bench.stop(c.log);
    await rm(dir, { recursive: true, force: true });
  }
  return { meta: { server: bench.server, endpoint: bench.endpoint, settings }, runs };
}

export interface BigMeta {
  fileSize: number;
  /** Region i sits at i × stride. */
  stride: number;
  /** Bytes of the regions (the 1 GiB volume's size). */
  dataBytes: number;
}

export interface BigPhase {
  meta: BigMeta;
  /** Per run. */
  runs: BigStepResult[][];
}

/** The large sparse volume's rows, --repeat times (each run writes the volume anew). */
export async function runBigPhase(c: PhaseContext, layout: VolumeLayout, fileSize: number): Promise<BigPhase> {
  const placement = spreadOut(layout, fileSize);
  const launch = (frontend: ConvoyFrontend): ConvoyLaunch => ({
    src: c.src,
    frontend,
    concurrency: c.options.concurrency,
    profileDir: c.options.profileDir,
    signal: c.signal,
  });
  const runs: BigStepResult[][] = [];
  for (let i = 0; i < c.options.repeat; i++) {
    const work = path.join(c.work, `big-run-${i + 1}`);
    try {
      runs.push(
        await runBig({ work, layout, placement, frontends: c.frontends, launch, prepare: c.prepare, log: c.log, signal: c.signal }),
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  return { meta: { fileSize, stride: placement.stride, dataBytes: layout.size }, runs };
}
