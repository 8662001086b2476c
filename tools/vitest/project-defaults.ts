// Shared vitest settings for the monorepo: the root vitest.config.ts and every package's own
// vitest.config.ts build on these, so a package runs the same way from the root
// (`npx vitest run`) and from its own directory.
//
// Why a helper and not just `test.projects: ['packages/*']`: in vitest 5 a project that is a
// directory or a config file owns all of its values — it inherits nothing from the root config
// (not `resolve.conditions`, not `testTimeout`). A directory without a vitest.config.* even gets
// bare vitest defaults. So the shared values live here, and `workspaceProjects` turns a directory
// without a config into an inline project built from `packageConfig`.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProjectConfiguration, TestProjectInlineConfiguration, ViteUserConfig } from 'vitest/config';

/** The export condition that points our packages at their TypeScript sources (no build needed). */
export const SOURCE_CONDITION = '@convoy/source';

/**
 * Real components (radosgw, dockerd, a qemu guest) make tests slower than unit tests, and CI runs
 * test files in parallel on 2 cores: the slowest tests take ~25 s there on a good run, so the
 * limit (which is for hangs, not speed) leaves them several times that.
 */
export const TEST_TIMEOUT_MS = 180_000;
/** `expect.poll`'s deadline (vitest's default is 1 s, which a starved test worker can overrun). */
export const POLL_TIMEOUT_MS = 30_000;
export const HOOK_TIMEOUT_MS = 120_000;

/** Absolute path of the global setup that provides a Ceph radosgw (see s3-global-setup.ts). */
export const S3_GLOBAL_SETUP = fileURLToPath(new URL('./s3-global-setup.ts', import.meta.url));

/** The repository root (this file lives in tools/vitest/). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const CONFIG_FILE = /^vite(?:st)?(?:\.[\w-]+)?\.config\.[cm]?[jt]s$/;

/**
 * Resolve `@convoy/source` first, so `import '@convoy/errors'` loads packages/errors/src/index.ts
 * (the condition comes first in each package's `exports`, so it wins whenever it is enabled).
 * Node tests resolve in vitest's `__vitest__` environment, which takes `ssr.resolve.conditions`:
 * measured with vitest 5.1 / vite 8.3, top-level `resolve.conditions` alone does not reach them
 * ("Failed to resolve entry for package") while `ssr.resolve.conditions` alone does. Top-level
 * `resolve` covers client environments (jsdom) should a package use one. Vitest adds its default
 * server conditions to ours, and also starts its workers with `--conditions @convoy/source`.
 */
export function sourceResolution(): Pick<ViteUserConfig, 'resolve' | 'ssr'> {
  return {
    resolve: { conditions: [SOURCE_CONDITION] },
    ssr: { resolve: { conditions: [SOURCE_CONDITION] } },
  };
}

export interface PackageConfigOptions {
  /**
   * Also run the radosgw global setup when vitest is started in this package's directory.
   * From the root it already runs once for all projects; the setup is idempotent, so a second
   * call in the same process reuses the running server.
   */
  s3?: boolean;
}

/**
 * The vitest config of one package or app: name = directory name, tests in src/ and test/,
 * node environment, generous timeouts, sources resolved through `@convoy/source`.
 *
 *   // packages/foo/vitest.config.ts
 *   import { defineConfig } from 'vitest/config';
 *   import { packageConfig } from '../../tools/vitest/project-defaults.js';
 *   // eslint-disable-next-line no-restricted-syntax -- Vite loads the default export
 *   export default defineConfig(packageConfig(import.meta.dirname, { s3: true }));
 */
export function packageConfig(dir: string | URL, options: PackageConfigOptions = {}): ViteUserConfig {
  const root = typeof dir === 'string' ? resolve(dir) : fileURLToPath(dir);
  return {
    root,
    ...sourceResolution(),
    test: {
      name: basename(root),
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: ['**/node_modules/**', '**/dist/**'],
      environment: 'node',
      testTimeout: TEST_TIMEOUT_MS,
      hookTimeout: HOOK_TIMEOUT_MS,
      expect: { poll: { timeout: POLL_TIMEOUT_MS } },
      ...(options.s3 ? { globalSetup: [S3_GLOBAL_SETUP] } : {}),
    },
  };
}

/**
 * Expands patterns like 'packages/*' (relative to `root`) into vitest projects: a directory with
 * its own vitest.config.* is passed by path (that config decides), a directory with only a
 * package.json becomes an inline project from `packageConfig`, anything else is ignored.
 */
export function workspaceProjects(root: string, patterns: readonly string[]): TestProjectConfiguration[] {
  const projects: TestProjectConfiguration[] = [];
  for (const pattern of patterns) {
    if (!pattern.endsWith('/*') || pattern.slice(0, -2).includes('*')) {
      throw new Error(`workspaceProjects: only 'dir/*' patterns are supported, got '${pattern}'`);
    }
    const parent = resolve(root, pattern.slice(0, -2));
    if (!existsSync(parent)) continue;
    const dirs = readdirSync(parent, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => join(parent, entry.name))
      .sort();
    for (const dir of dirs) {
      const files = readdirSync(dir);
      if (files.some((file) => CONFIG_FILE.test(file))) {
        projects.push(dir);
      } else if (files.includes('package.json')) {
        const inline: TestProjectInlineConfiguration = { ...packageConfig(dir), extends: false };
        projects.push(inline);
      }
    }
  }
  return projects;
}
