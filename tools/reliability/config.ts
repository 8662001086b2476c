// A run's settings, read from the environment that reliability.ts (or test-all.sh) gives vitest:
//   RELIABILITY_SEED     the run's seed (default 1 in CI, so a red CI run replays the same plan)
//   RELIABILITY_SIZE     ci (default) or full
//   RELIABILITY_RESULTS  the JSON-lines file trial records are appended to
//   RELIABILITY_REPORT   where the Markdown report is written at the end
//   RELIABILITY_COMMAND  the command line the report names (how to run it again)
import path from 'node:path';
import { REPO_ROOT } from './convoy.js';
import type { DirShape } from './dir-volumes.js';
import type { StoreKind } from './stores.js';

export type SizeName = 'ci' | 'full';

export interface Size {
  name: SizeName;
  /** Lease TTL forced into every convoy-backup of the crash, pause and concurrency campaigns (lease-ttl.ts). */
  leaseTtlMs: number;
  /** Deadline of any one convoy-backup run (a longer run is a hang). */
  timeoutMs: number;
  /** Trials per operation on each store kind (each kind's operations split over files: crash-register.ts). */
  crash: {
    trialsPerOp: Record<StoreKind, number>;
    /** The images' 2 MiB regions, per store kind (radosgw's reads and writes cost most of a trial there). */
    regions: Record<StoreKind, number>;
    backupsPerVolume: number;
    /** The directory-volume files (`crash-*-dirs`): trials per operation, and the trees' shape (dir-volumes.ts). */
    dirTrialsPerOp: Record<StoreKind, number>;
    dirs: DirShape;
    /** The encrypted-store files (`crash-*-encrypted`): trials per operation. */
    encryptedTrialsPerOp: Record<StoreKind, number>;
  };
  pause: { trials: number; regions: number; pastLease: boolean };
  /** CI: every kind once on vfs and two kinds on radosgw; full: every kind `instancesPerKind` times on each. */
  corruption: { regions: number; instancesPerKind: Record<StoreKind, number> };
  concurrency: { roundsPerScenario: number; regions: number };
  /**
   * Faulty S3 (s3-faults.ts): runs of each operation through FaultyS3Proxy, lying-PUT creates, and
   * runs with one stalled request (each waits out the S3 driver's 60 s inactivity timeout);
   * each trial draws its fault rate (chance per request) from `rates`. Leases of `leaseTtlMs`
   * (lease-ttl.ts): a lease whose release the faults made fail is waited out within it.
   */
  s3faults: {
    trialsPerOp: number;
    lyingTrials: number;
    lyingMaintenanceTrials: number;
    stallTrials: number;
    regions: number;
    backupsPerVolume: number;
    rates: number[];
    leaseTtlMs: number;
    /** The directory volume's tree (dir-create, dir-create-lying, dir-restore). */
    dirs: DirShape;
  };
  /** Maintenance killed, re-run with the CLI's own 150 s leases (in the background of the crash campaign). */
  leaseExpiry: { trialsPerStore: number };
  /** Hostile input: fuzzed batches per socket (each `requests` + `bigBodies` 10 MB ones), URLs through each CLI. */
  hostile: { batchesPerSocket: number; requests: number; bigBodies: number; parallel: number; cliUrls: number };
  /** kill -9 of convoy-daemon: trials per operation (create, restore, snapshot, backup, delete), the files written per fill, corrupt-record trials per kind. */
  daemon: { trialsPerOp: number; filesPerFill: number; maxFileBytes: number; corruptPerKind: number };
  /** Two daemons on one vfs path: rounds, operations per stream and round, names shared, chance that one daemon is killed (and restarted) mid-round. */
  sharedVfs: { rounds: number; opsPerStream: number; names: number; killChance: number };
  /** kill -9 of `key change` and `key add` on an encrypted store (keys.ts): trials per store kind; the images' regions. */
  keys: { change: Record<StoreKind, number>; add: Record<StoreKind, number>; regions: number };
  /** kill -9 of `forget` (forget.ts): trials per store kind; the images' regions. */
  forget: { trials: Record<StoreKind, number>; regions: number };
  /** kill -9 of convoy-daemon during a scheduled backup run (schedules.ts): trials, files per fill, the policy's --keep-last. */
  schedules: { trials: number; filesPerFill: number; maxFileBytes: number; keepLast: number };
}

export const SIZES: Record<SizeName, Size> = {
  ci: {
    name: 'ci',
    leaseTtlMs: 6_000,
    timeoutMs: 120_000,
    crash: {
      trialsPerOp: { vfs: 1, s3: 1 },
      regions: { vfs: 4, s3: 4 },
      backupsPerVolume: 2,
      dirTrialsPerOp: { vfs: 1, s3: 1 },
      dirs: { files: 40, maxSmallBytes: 200_000, largeFiles: 2 },
      encryptedTrialsPerOp: { vfs: 1, s3: 1 },
    },
    pause: { trials: 1, regions: 12, pastLease: false },
    corruption: { regions: 3, instancesPerKind: { vfs: 1, s3: 1 } },
    concurrency: { roundsPerScenario: 1, regions: 6 },
    s3faults: {
      trialsPerOp: 1,
      lyingTrials: 2,
      lyingMaintenanceTrials: 1,
      stallTrials: 0,
      regions: 3,
      backupsPerVolume: 2,
      rates: [0.1, 0.25, 0.45],
      leaseTtlMs: 30_000,
      dirs: { files: 30, maxSmallBytes: 150_000, largeFiles: 1 },
    },
    leaseExpiry: { trialsPerStore: 1 },
    hostile: { batchesPerSocket: 2, requests: 150, bigBodies: 2, parallel: 4, cliUrls: 3 },
    daemon: { trialsPerOp: 2, filesPerFill: 6, maxFileBytes: 300_000, corruptPerKind: 1 },
    sharedVfs: { rounds: 3, opsPerStream: 15, names: 3, killChance: 0.5 },
    keys: { change: { vfs: 1, s3: 1 }, add: { vfs: 1, s3: 1 }, regions: 2 },
    forget: { trials: { vfs: 1, s3: 1 }, regions: 2 },
    schedules: { trials: 2, filesPerFill: 6, maxFileBytes: 300_000, keepLast: 2 },
  },
  full: {
    name: 'full',
    leaseTtlMs: 6_000,
    timeoutMs: 300_000,
    crash: {
      trialsPerOp: { vfs: 50, s3: 50 },
      regions: { vfs: 8, s3: 4 },
      backupsPerVolume: 2,
      dirTrialsPerOp: { vfs: 6, s3: 3 },
      dirs: { files: 60, maxSmallBytes: 200_000, largeFiles: 2 },
      encryptedTrialsPerOp: { vfs: 3, s3: 1 },
    },
    pause: { trials: 4, regions: 32, pastLease: true },
    corruption: { regions: 8, instancesPerKind: { vfs: 1, s3: 1 } },
    concurrency: { roundsPerScenario: 2, regions: 16 },
    s3faults: {
      trialsPerOp: 3,
      lyingTrials: 6,
      lyingMaintenanceTrials: 4,
      stallTrials: 2,
      regions: 6,
      backupsPerVolume: 2,
      rates: [0.05, 0.15, 0.3, 0.45],
      leaseTtlMs: 30_000,
      dirs: { files: 60, maxSmallBytes: 200_000, largeFiles: 2 },
    },
    leaseExpiry: { trialsPerStore: 4 },
    hostile: { batchesPerSocket: 8, requests: 500, bigBodies: 5, parallel: 8, cliUrls: 15 },
    daemon: { trialsPerOp: 5, filesPerFill: 10, maxFileBytes: 3_000_000, corruptPerKind: 2 },
    sharedVfs: { rounds: 20, opsPerStream: 40, names: 3, killChance: 0.5 },
    keys: { change: { vfs: 4, s3: 2 }, add: { vfs: 2, s3: 1 }, regions: 3 },
    forget: { trials: { vfs: 3, s3: 2 }, regions: 3 },
    schedules: { trials: 4, filesPerFill: 8, maxFileBytes: 1_000_000, keepLast: 2 },
  },
};

export interface RunConfig {
  seed: number;
  size: Size;
  resultsFile: string;
  reportFile: string;
  command: string;
}

export function runConfig(): RunConfig {
  const seedText = process.env.RELIABILITY_SEED ?? '1';
  const seed = Number(seedText);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new Error(`RELIABILITY_SEED must be an integer in [0, 2^32), got ${seedText}`);
  const sizeName = process.env.RELIABILITY_SIZE ?? 'ci';
  if (sizeName !== 'ci' && sizeName !== 'full') throw new Error(`RELIABILITY_SIZE must be ci or full, got ${sizeName}`);
  const logs = path.join(REPO_ROOT, '.test-logs');
  return {
    seed,
    size: SIZES[sizeName],
    resultsFile: process.env.RELIABILITY_RESULTS ?? path.join(logs, 'reliability-results.jsonl'),
    reportFile: process.env.RELIABILITY_REPORT ?? path.join(logs, 'reliability.md'),
    command:
      process.env.RELIABILITY_COMMAND ??
      `RELIABILITY_SEED=${seed} RELIABILITY_SIZE=${sizeName} npx vitest run --config tools/reliability/vitest.config.ts`,
  };
}
