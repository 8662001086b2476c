// apps/daemon: end-to-end tests against a real Docker engine (test/*.test.ts). They share one
// dockerd and the plugin socket /run/docker/plugins/convoy.sock, so files run one at a time;
// test/docker-global-setup.ts starts dockerd (and stops it if it started it).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { packageConfig } from '../../tools/vitest/project-defaults.js';

const base = packageConfig(import.meta.dirname);

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    globalSetup: [fileURLToPath(new URL('./test/docker-global-setup.ts', import.meta.url))],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
