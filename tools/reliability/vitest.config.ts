// The reliability campaigns as a vitest run: each trial is a test (so a CI run counts them in its
// "N passed, N failed"), radosgw comes from the shared S3 global setup (never skipped: the
// campaigns fail without it), and report-setup.ts writes the report when the run ends. Inside a
// file, trials run one after another on one store. Six files run at once, longest first: the
// lease-expiry file (started first) mostly waits out 150 s leases, and the others wait on radosgw, fsync and
// leases more than half of the time, so five of them are needed to keep the two cores busy.
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { S3_GLOBAL_SETUP, packageConfig } from '../vitest/project-defaults.js';

/**
 * Longest files first, in a fixed order (longest-processing-time scheduling over six lanes): the
 * order is by each file's expected duration at `--full`, from the run of seed 20261206 (2026-12-02,
 * 62 min: s3-faults 1823 s, crash-s3-creates 1666 s, … schedules 65 s) scaled by the sizes changed
 * since (radosgw crash trials twice as many on images of half the size, each ~0.73 of the time;
 * fewer faulty-S3, daemon, vfs corruption, concurrency and hostile-URL trials: config.ts). The order
 * before (crash files first, corruption, concurrency, hostile and pause late) left those four
 * running alone for the last 13 minutes. vitest's default order (failed files first, then by the
 * durations its cache remembers) depends on the previous run. The lease-expiry file comes first:
 * it mostly waits.
 */
const ORDER = [
  'lease-expiry',
  'crash-s3-maintenance',
  'crash-s3-creates',
  'crash-s3-restore-delete',
  'crash-vfs-creates',
  'crash-vfs-maintenance',
  'corruption-s3',
  's3-faults',
  'crash-vfs-restore-delete',
  'daemon-restart',
  's3-faults-dirs',
  'pause',
  'concurrency',
  'corruption-vfs',
  'crash-s3-dirs',
  'hostile',
  'crash-vfs-encrypted',
  'crash-vfs-dirs',
  'keys',
  'crash-s3-encrypted',
  'forget',
  'bugs',
  'shared-vfs',
  'schedules',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => {
      const i = ORDER.indexOf(
        f.moduleId
          .split('/')
          .at(-1)
          ?.replace(/\.test\.ts$/, '') ?? '',
      );
      return i < 0 ? ORDER.length : i;
    };
    return [...files].sort((a, b) => rank(a) - rank(b));
  }
}

const base = packageConfig(import.meta.dirname);

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['*.test.ts'],
    globalSetup: [S3_GLOBAL_SETUP, './report-setup.ts'],
    testTimeout: 900_000,
    hookTimeout: 600_000,
    fileParallelism: true,
    maxWorkers: 6,
    maxConcurrency: 10,
    sequence: { sequencer: LongestFirst },
  },
});
