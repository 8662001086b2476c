// The three bins as a user runs them (node_modules/.bin/…), with an old `node` first on PATH
// (Debian's Node 20 here, or a fake one): they run on the pinned Node. Needs the build (dist/).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oldNodeOnPath, type OldNode } from '@convoy/cli-kit/testing';
import { REPO_ROOT } from '../../../tools/vitest/project-defaults.js';

const BINS = [
  { bin: 'convoy', app: 'cli', help: /convoy <command>/ },
  { bin: 'convoy-daemon', app: 'daemon', help: /Serves the Docker volume plugin socket/ },
  { bin: 'convoy-backup', app: 'backup', help: /convoy-backup <command>/ },
] as const;
const built = BINS.every((b) => existsSync(path.join(REPO_ROOT, 'apps', b.app, 'dist', 'main.js')));

let dir: string;
let old: OldNode;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-bins-test-'));
  old = await oldNodeOnPath(path.join(dir, 'old-node'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

// Outside CI a checkout that was never built skips these; CI builds first (tools/test-all.sh).
describe.skipIf(!built && process.env.CI !== 'true')('the bins under an old node first on PATH', () => {
  for (const { bin, help } of BINS) {
    it(`${bin} --version and --help run on the pinned Node`, async () => {
      const env = { PATH: `${old.dir}:/usr/bin:/bin`, HOME: dir };
      const file = path.join(REPO_ROOT, 'node_modules', '.bin', bin);
      const { stdout: onPath } = await promisify(execFile)('node', ['--version'], { env });
      expect(onPath.trim()).toBe(`v${old.version}`);
      const version = await promisify(execFile)(file, ['--version'], { env });
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
      const usage = await promisify(execFile)(file, ['--help'], { env });
      expect(usage.stdout).toMatch(help);
    });
  }
});
