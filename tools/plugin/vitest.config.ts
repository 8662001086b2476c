// The managed Docker plugin (tools/plugin/build.sh) against a real dockerd: its own stage of
// tools/test-all.sh, after the build (build.sh stages the dist/ the build wrote). dockerd comes
// from apps/daemon's Docker global setup (started here unless one already answers, and stopped
// again only if it was started here).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { packageConfig } from '../vitest/project-defaults.js';

const base = packageConfig(import.meta.dirname);

// Vite loads a config through its default export.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['*.test.ts'],
    globalSetup: [fileURLToPath(new URL('../../apps/daemon/test/docker-global-setup.ts', import.meta.url))],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
