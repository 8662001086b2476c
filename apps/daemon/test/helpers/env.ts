// Fixed facts of the Docker end-to-end tests, shared by the global setup and the test files.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../../tools/vitest/project-defaults.js';

export { REPO_ROOT };

/** Where Docker discovers the convoy plugin; exactly one test daemon owns it at a time. */
export const PLUGIN_SOCKET = '/run/docker/plugins/convoy.sock';
/** The busybox-only image tools/dockerd.sh imports. */
export const IMAGE = 'convoy-test/busybox:latest';
/** Every container the tests create carries this label, so cleanup finds them all. */
export const CONTAINER_LABEL = 'convoy-e2e';
/** Daemon logs (one file per daemon) and dockerd's log after a failure. */
export const LOG_DIR = join(REPO_ROOT, '.test-logs', 'docker');

/** A fresh temporary directory; remove it with removeDir. Short, so socket paths stay < 108 bytes. */
export function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `convoy-e2e-${label}-`));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}

/**
 * Volume names unique to this run ("e2e3fa1-v1"): Docker keeps a name → driver table across runs,
 * and a leftover from an interrupted run must not collide with this one.
 */
export function nameFactory(): (base: string) => string {
  const prefix = `e2e${randomBytes(3).toString('hex')}`;
  return (base) => `${prefix}-${base}`;
}
