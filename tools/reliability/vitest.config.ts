// The reliability campaigns as a vitest run: each trial is a test (so a CI run counts them in its
// "N passed, N failed"), radosgw comes from the shared S3 global setup (never skipped: the
// campaigns fail without it), and report-setup.ts writes the report when the run ends. Files run
// two at a time (the crash campaigns on vfs and on radosgw side by side); inside a file, trials
// run one after another on one store.
import { defineConfig } from 'vitest/config';
import { S3_GLOBAL_SETUP, packageConfig } from '../vitest/project-defaults.js';

const base = packageConfig(import.meta.dirname);

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['*.test.ts'],
    globalSetup: [S3_GLOBAL_SETUP, './report-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
