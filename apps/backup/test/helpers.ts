// Shared by the CLI tests: run convoy-backup in-process, make temp dirs and test files.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../src/cli.js';

export const MiB = 1024 * 1024;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Non-empty stdout lines. */
  lines: string[];
  /** The last stdout line ('' if none). */
  last: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  isTTY?: boolean;
  /** Called with every chunk written to stderr, as it is written. */
  onStderr?: (chunk: string) => void;
}

function sink(onChunk?: (chunk: string) => void): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const s = chunk.toString();
      text += s;
      onChunk?.(s);
      done();
    },
  });
  return { stream, text: () => text };
}

/** Runs the CLI in this process with captured output and an empty environment (unless given). */
export async function cli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  const out = sink();
  const err = sink(options.onStderr);
  const code = await runCli(args, {
    stdout: out.stream,
    stderr: err.stream,
    isTTY: options.isTTY ?? false,
    env: options.env ?? {},
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const lines = out.text().split('\n').filter((l) => l !== '');
  return { code, stdout: out.text(), stderr: err.text(), lines, last: lines.at(-1) ?? '' };
}

/** The last stdout line parsed as JSON (what --json promises). */
export function lastJson<T = Record<string, unknown>>(run: CliRun): T {
  return JSON.parse(run.last) as T;
}

export interface ErrorJson {
  error: { code: string; message: string; hint?: string };
}

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
    for (let done = 0; done < size; ) {
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
