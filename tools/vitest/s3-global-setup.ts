// Vitest global setup: a real S3 server for the tests — Ceph radosgw on loopback, started by
// tools/ceph-s3.sh (one mon, one in-memory OSD; ~10 s to ready).
//
//   CONVOY_TEST_S3_ENDPOINT set  → use that server, start nothing
//   CONVOY_TEST_NO_S3=1          → start nothing (quick local unit runs); ignored when CI is set
//   otherwise                    → install the Debian packages if radosgw is missing, start
//                                  radosgw on a free port, stop it in teardown
//
// Tests read CONVOY_TEST_S3_ENDPOINT / _ACCESS_KEY / _SECRET_KEY from process.env (workers
// inherit it) or `inject('convoyS3')`. When a test failed or radosgw did not start, its logs are
// copied to .test-logs/ceph/. Calling setup again in the same process (a package config that
// also lists this file) reuses the running server; the last teardown stops it.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { TestProject } from 'vitest/node';
import { REPO_ROOT } from './project-defaults.js';
import { freeCephPortPair } from './ceph-ports.js';

/** How tests reach the S3 server. */
export interface S3TestTarget {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The S3 server for tests; absent when CONVOY_TEST_NO_S3=1 turned it off. */
    convoyS3?: S3TestTarget;
  }
}

type Teardown = () => Promise<void>;

interface RunningS3 {
  target: S3TestTarget;
  dir: string;
  users: number;
  stopped: boolean;
  onExit: () => void;
}

const CEPH_S3 = join(REPO_ROOT, 'tools', 'ceph-s3.sh');
const LOG_DIR = join(REPO_ROOT, '.test-logs', 'ceph');
const ACCESS_KEY = 'AKTEST';
const SECRET_KEY = 'SKTEST';

// Each project loads this file through its own module runner, so module-level variables are
// not shared between calls; globalThis is.
const STATE: unique symbol = Symbol.for('convoy.test.s3');
const NOTED: unique symbol = Symbol.for('convoy.test.s3.disabled-noted');
type GlobalWithS3 = typeof globalThis & { [STATE]?: Promise<RunningS3>; [NOTED]?: boolean };
const shared = globalThis as GlobalWithS3;

export async function setup(project: TestProject): Promise<Teardown | undefined> {
  const pending = shared[STATE];
  if (pending) {
    const running = await pending;
    if (!running.stopped) {
      running.users += 1;
      project.provide('convoyS3', running.target);
      return () => release(running, project);
    }
  }

  const endpoint = process.env.CONVOY_TEST_S3_ENDPOINT;
  if (endpoint) {
    project.provide('convoyS3', {
      endpoint,
      accessKeyId: process.env.CONVOY_TEST_S3_ACCESS_KEY ?? ACCESS_KEY,
      secretAccessKey: process.env.CONVOY_TEST_S3_SECRET_KEY ?? SECRET_KEY,
    });
    return undefined;
  }

  if (process.env.CONVOY_TEST_NO_S3 === '1') {
    if (!isCI()) {
      if (!shared[NOTED]) log('CONVOY_TEST_NO_S3=1: no radosgw for this run; tests that need S3 will skip or fail');
      shared[NOTED] = true;
      return undefined;
    }
    log('CONVOY_TEST_NO_S3=1 is ignored because CI is set: starting radosgw');
  }

  const starting = start();
  shared[STATE] = starting;
  let running: RunningS3;
  try {
    running = await starting;
  } catch (error) {
    delete shared[STATE];
    throw error;
  }
  project.provide('convoyS3', running.target);
  return () => release(running, project);
}

async function start(): Promise<RunningS3> {
  if (!onPath('radosgw')) {
    log('radosgw is not installed: running tools/ceph-s3.sh install (apt)');
    const install = await run(['install'], 'inherit');
    if (install.code !== 0) throw new Error(`tools/ceph-s3.sh install failed (exit ${install.code})`);
  }
  const port = await freeCephPortPair();
  const dir = mkdtempSync(join(tmpdir(), 'convoy-ceph-'));
  const began = Date.now();
  const started = await run(['start', dir, String(port)], 'pipe');
  if (started.code !== 0) {
    keepLogs(dir, `radosgw did not start (tools/ceph-s3.sh start exited ${started.code})`);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      'radosgw did not start; see .test-logs/ceph/ ' +
        '(set CONVOY_TEST_S3_ENDPOINT to use another S3 server, or CONVOY_TEST_NO_S3=1 outside CI to run without)',
    );
  }
  const target: S3TestTarget = {
    endpoint: started.stdout.trim().split('\n').pop() ?? `http://127.0.0.1:${port}`,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
  };
  process.env.CONVOY_TEST_S3_ENDPOINT = target.endpoint;
  process.env.CONVOY_TEST_S3_ACCESS_KEY = target.accessKeyId;
  process.env.CONVOY_TEST_S3_SECRET_KEY = target.secretAccessKey;
  // For tests that need their own radosgw users (radosgw-admin -c …): the reliability secrets check.
  process.env.CONVOY_TEST_S3_CEPH_CONF = join(dir, 'ceph.conf');
  log(`radosgw ready at ${target.endpoint} in ${((Date.now() - began) / 1000).toFixed(1)} s (${dir})`);

  const running: RunningS3 = {
    target,
    dir,
    users: 1,
    stopped: false,
    // last resort if vitest exits without running teardown: do not leave daemons behind
    onExit: () => {
      if (!running.stopped) spawnSync('bash', [CEPH_S3, 'stop', dir], { stdio: 'ignore' });
    },
  };
  process.once('exit', running.onExit);
  return running;
}

async function release(running: RunningS3, project: TestProject): Promise<void> {
  running.users -= 1;
  if (running.users > 0 || running.stopped) return;
  running.stopped = true;
  process.off('exit', running.onExit);
  delete shared[STATE];
  if (process.env.CONVOY_TEST_S3_ENDPOINT === running.target.endpoint) {
    delete process.env.CONVOY_TEST_S3_ENDPOINT;
    delete process.env.CONVOY_TEST_S3_ACCESS_KEY;
    delete process.env.CONVOY_TEST_S3_SECRET_KEY;
    delete process.env.CONVOY_TEST_S3_CEPH_CONF;
  }
  const stopped = await run(['stop', running.dir], 'pipe');
  if (stopped.code !== 0) keepLogs(running.dir, `tools/ceph-s3.sh stop exited ${stopped.code}`);
  else if (runFailed(project)) keepLogs(running.dir, 'some tests failed');
  rmSync(running.dir, { recursive: true, force: true });
  if (stopped.code !== 0) throw new Error(`tools/ceph-s3.sh stop ${running.dir} failed; see .test-logs/ceph/`);
}

/** Whether this vitest run has failed so far (teardown runs after the tests and reporters). */
function runFailed(project: TestProject): boolean {
  const code = process.exitCode;
  if (code !== undefined && code !== null && Number(code) !== 0) return true;
  const state = project.vitest.state;
  return state.getUnhandledErrors().length > 0 || state.getTestModules().some((module) => !module.ok());
}

function keepLogs(dir: string, why: string): void {
  rmSync(LOG_DIR, { recursive: true, force: true });
  mkdirSync(LOG_DIR, { recursive: true });
  const logs = join(dir, 'log');
  if (existsSync(logs)) cpSync(logs, LOG_DIR, { recursive: true });
  const conf = join(dir, 'ceph.conf');
  if (existsSync(conf)) cpSync(conf, join(LOG_DIR, 'ceph.conf'));
  log(`${why}: Ceph logs copied to ${relative(process.cwd(), LOG_DIR) || LOG_DIR}/`);
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

interface RunResult {
  code: number;
  stdout: string;
}

/** Runs tools/ceph-s3.sh with its stderr on ours; stdout is captured ('pipe') or shown ('inherit'). */
function run(args: readonly string[], stdout: 'pipe' | 'inherit'): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('bash', [CEPH_S3, ...args], { cwd: REPO_ROOT, stdio: ['ignore', stdout, 'inherit'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolveRun({ code: code ?? (signal ? 128 : 1), stdout: out }));
  });
}

function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

function log(message: string): void {
  process.stderr.write(`[s3-global-setup] ${message}\n`);
}
