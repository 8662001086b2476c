// For the tests of the bins' launcher (bin/launch.cjs): a `node` older than the bins need, to put
// first on PATH.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/** The Node release a fake old `node` pretends to be: Debian 12's. */
export const FAKE_OLD_VERSION = '18.19.0';

/** A `node` older than 22.15 in `dir` (put `dir` first on PATH), and what it is. */
export interface OldNode {
  dir: string;
  /** Its version, without the v. */
  version: string;
  /** Debian's /usr/bin/node, or a script that makes the pinned Node report FAKE_OLD_VERSION. */
  kind: 'system' | 'fake';
}

/**
 * Debian's /usr/bin/node when it is there and older than 22.15 (the real case); else a fake: a
 * `node` script that runs this Node with process.version(s) rewritten to FAKE_OLD_VERSION.
 */
export async function oldNodeOnPath(dir: string): Promise<OldNode> {
  await fs.mkdir(dir, { recursive: true });
  const system = await systemNodeVersion('/usr/bin/node');
  if (system !== undefined && isOld(system)) {
    await fs.symlink('/usr/bin/node', path.join(dir, 'node'));
    return { dir, version: system, kind: 'system' };
  }
  const preload = path.join(dir, 'old-version.cjs');
  await fs.writeFile(
    preload,
    `const versions = Object.assign({}, process.versions, { node: ${JSON.stringify(FAKE_OLD_VERSION)} });\n` +
      `Object.defineProperty(process, 'versions', { value: versions });\n` +
      `Object.defineProperty(process, 'version', { value: 'v${FAKE_OLD_VERSION}' });\n`,
  );
  await fs.writeFile(path.join(dir, 'node'), `#!/bin/sh\nexec '${process.execPath}' --require '${preload}' "$@"\n`, { mode: 0o755 });
  return { dir, version: FAKE_OLD_VERSION, kind: 'fake' };
}

function isOld(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major < 22 || (major === 22 && minor < 12);
}

async function systemNodeVersion(file: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)(file, ['--version']);
    return stdout.trim().replace(/^v/, '');
  } catch {
    return undefined; // not installed (or not runnable): the fake stands in
  }
}
