// The reliability campaigns as a vitest run: each trial is a test (so a CI run counts them in its
// "N passed, N failed"), radosgw comes from the shared S3 global setup (never skipped: the
// campaigns fail without it), and report-setup.ts writes the report when the run ends. Inside a
// file, trials run one after another on one store. Six files run at once: the lease-expiry file
// (started first) mostly waits out 150 s leases, and the others wait on radosgw, fsync and
// leases more than half of the time, so five of them are needed to keep the two cores busy.
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { S3_GLOBAL_SETUP, packageConfig } from '../vitest/project-defaults.js';

class LeaseExpiryFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const waits = (f: TestSpecification): boolean => f.moduleId.endsWith('lease-expiry.test.ts');
    return [...sorted.filter(waits), ...sorted.filter((f) => !waits(f))];
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
    sequence: { sequencer: LeaseExpiryFirst },
  },
});
