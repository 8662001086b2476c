// Vitest global setup of apps/daemon: a real Docker engine for the end-to-end tests.
//
// Starts dockerd with tools/dockerd.sh (Debian's docker.io; installed first when missing and we are
// root), imports the busybox test image, and checks that no live convoy-daemon already owns
// /run/docker/plugins/convoy.sock (the tests put theirs there). Teardown stops dockerd only if this
// setup started it.
//
//   CONVOY_TEST_NO_DOCKER=1  → start nothing, the Docker tests skip (ignored when CI is set)
//   otherwise                → Docker must work: if dockerd cannot start, the run fails
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { copyFileSync, existsSync, lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { REPO_ROOT } from '../../../tools/vitest/project-defaults.js';
import { CONTAINER_LABEL, LOG_DIR, PLUGIN_SOCKET } from './helpers/env.js';

/** What the Docker tests get through `inject('convoyDocker')`. */
export interface DockerTestTarget {
  /** False only when CONVOY_TEST_NO_DOCKER=1 outside CI: the tests skip. */
  available: boolean;
  /** Label put on every container the tests create (cleanup removes them by it). */
  containerLabel: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    convoyDocker: DockerTestTarget;
  }
}

const DOCKERD_SH = join(REPO_ROOT, 'tools', 'dockerd.sh');
const DOCKERD_LOG = '/tmp/convoy-test-dockerd.log';

export async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.CONVOY_TEST_NO_DOCKER === '1' && !isCI()) {
    log('CONVOY_TEST_NO_DOCKER=1: no dockerd for this run; the Docker tests skip');
    project.provide('convoyDocker', { available: false, containerLabel: CONTAINER_LABEL });
    return undefined;
  }
  if (process.env.CONVOY_TEST_NO_DOCKER === '1') log('CONVOY_TEST_NO_DOCKER=1 is ignored because CI is set');

  if (!onPath('dockerd') || !existsSync('/usr/bin/docker')) {
    log('dockerd is not installed: running tools/dockerd.sh install (apt)');
    const install = await run(['install'], 'inherit');
    if (install.code !== 0)
      throw new Error(`tools/dockerd.sh install failed (exit ${install.code}); the Docker tests need Debian's docker.io (as root)`);
  }
  const began = Date.now();
  const started = await run(['start'], 'pipe');
  if (started.code !== 0) {
    keepDockerdLog();
    throw new Error(`dockerd did not start (tools/dockerd.sh start exited ${started.code}); see .test-logs/docker/dockerd.log`);
  }
  const startedHere = !started.stdout.includes('already answers');
  log(startedHere ? `dockerd started in ${((Date.now() - began) / 1000).toFixed(1)} s` : 'using the dockerd that already answers');

  const stop = async (): Promise<void> => {
    if (!startedHere) return;
    const stopped = await run(['stop'], 'pipe');
    if (stopped.code !== 0) {
      keepDockerdLog();
      throw new Error(`tools/dockerd.sh stop failed (exit ${stopped.code})`);
    }
  };
  try {
    const image = await run(['image'], 'pipe');
    if (image.code !== 0) throw new Error(`tools/dockerd.sh image failed (exit ${image.code}): cannot import convoy-test/busybox:latest`);
    // containers a crashed earlier run left behind (they could hold convoy volume references)
    const stale = spawnSync('docker', ['ps', '-aq', '--filter', `label=${CONTAINER_LABEL}`], { encoding: 'utf8' }).stdout?.trim() ?? '';
    if (stale !== '') spawnSync('docker', ['rm', '-f', ...stale.split('\n')], { stdio: 'ignore' });
    await checkPluginSocketFree();
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  project.provide('convoyDocker', { available: true, containerLabel: CONTAINER_LABEL });
  return async () => {
    if (runFailed(project)) keepDockerdLog();
    await stop();
  };
}

/** A convoy-daemon someone else runs on the plugin socket would get the tests' Docker calls. */
async function checkPluginSocketFree(): Promise<void> {
  let isSocket = false;
  try {
    isSocket = lstatSync(PLUGIN_SOCKET).isSocket();
  } catch {
    return; // absent
  }
  if (!isSocket) throw new Error(`${PLUGIN_SOCKET} exists and is not a socket: remove it before running the Docker tests`);
  const live = await new Promise<boolean>((resolve) => {
    const s = connect({ path: PLUGIN_SOCKET });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) {
    throw new Error(
      `a convoy-daemon already serves ${PLUGIN_SOCKET}: stop it (systemctl stop convoy) before running the Docker tests, which put their own daemon there`,
    );
  }
}

function keepDockerdLog(): void {
  if (!existsSync(DOCKERD_LOG)) return;
  mkdirSync(LOG_DIR, { recursive: true });
  copyFileSync(DOCKERD_LOG, join(LOG_DIR, 'dockerd.log'));
}

function runFailed(project: TestProject): boolean {
  const code = process.exitCode;
  if (code !== undefined && code !== null && Number(code) !== 0) return true;
  const state = project.vitest.state;
  return state.getUnhandledErrors().length > 0 || state.getTestModules().some((module) => !module.ok());
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Runs tools/dockerd.sh with its stderr on ours; stdout captured ('pipe') or shown ('inherit'). */
function run(args: readonly string[], stdout: 'pipe' | 'inherit'): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [DOCKERD_SH, ...args], { cwd: REPO_ROOT, stdio: ['ignore', stdout, 'inherit'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout: out }));
  });
}

function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

function log(message: string): void {
  process.stderr.write(`[docker-global-setup] ${message}\n`);
}
