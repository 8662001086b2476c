// Root vitest config: one run over every package and app (`npx vitest run`), with a real Ceph
// radosgw started once for the whole run (tools/vitest/s3-global-setup.ts).
// Shared settings live in tools/vitest/project-defaults.ts: in vitest 5 directory and file
// projects inherit nothing from this file, so each project gets them from there.
import { defineConfig } from 'vitest/config';
import {
  HOOK_TIMEOUT_MS,
  REPO_ROOT,
  S3_GLOBAL_SETUP,
  TEST_TIMEOUT_MS,
  sourceResolution,
  workspaceProjects,
} from './tools/vitest/project-defaults.js';

// Vite loads a config through its default export; this is the one place we allow one.
export default defineConfig({
  ...sourceResolution(),
  test: {
    // 'packages/*' and 'apps/*': a directory with its own vitest.config.ts is used as is, one
    // without gets packageConfig() defaults (vitest itself would give it bare defaults).
    // tools/bench's smoke tests (the scale simulation's cost curve) run here too; tools/reliability
    // is its own stage of tools/test-all.sh.
    projects: [...workspaceProjects(REPO_ROOT, ['packages/*', 'apps/*']), `${REPO_ROOT}/tools/bench`],
    globalSetup: [S3_GLOBAL_SETUP],
    testTimeout: TEST_TIMEOUT_MS,
    hookTimeout: HOOK_TIMEOUT_MS,
  },
});
