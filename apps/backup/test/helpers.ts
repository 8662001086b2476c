// Shared by the CLI tests: run convoy-backup in-process, make temp dirs and test files.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inProcess } from '@convoy/cli-kit/testing';
import { runCli } from '../src/cli.js';

export { lastJson, type CliRun, type ErrorJson, type RunOptions } from '@convoy/cli-kit/testing';

export const MiB = 1024 * 1024;

/** Runs the CLI in this process with captured output and an empty environment (unless given). */
export const cli = inProcess(runCli);

export async function tempDir(prefix = 'convoy-backup-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await fs.open(file, 'r');
  try {
    for await (const chunk of fh.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await fh.close().catch(() => undefined);
  }
  return hash.digest('hex');
}

/** A file of `size` random bytes, written in chunks. */
export async function randomFile(file: string, size: number): Promise<void> {
  const fh = await fs.open(file, 'w');
  try {
    for (let done = 0; done < size;) {
      const n = Math.min(8 * MiB, size - done);
      await fh.write(randomBytes(n), 0, n, done);
      done += n;
    }
  } finally {
    await fh.close();
  }
}

/** Every file under `dir`, relative and sorted ([] if it does not exist). */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}
