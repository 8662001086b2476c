// Shared by the CLI tests: run convoy in-process (runCli) or as a real process from its sources.
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../src/cli.js';

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

function result(code: number, stdout: string, stderr: string): CliRun {
  const lines = stdout.split('\n').filter((l) => l !== '');
  return { code, stdout, stderr, lines, last: lines.at(-1) ?? '' };
}

/** Runs the CLI in this process with captured output and only the given environment. */
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
  return result(code, out.text(), err.text());
}

/** The last stdout line parsed as JSON (what --json promises). */
export function lastJson<T = Record<string, unknown>>(run: CliRun): T {
  return JSON.parse(run.last) as T;
}

export interface ErrorJson {
  error: { code: string; message: string; hint?: string };
}

const APP = fileURLToPath(new URL('..', import.meta.url));

/** The command line that runs convoy as a real process from its TypeScript sources. */
export function sourceCommand(args: readonly string[]): string[] {
  return ['--conditions=@convoy/source', '--import', './test/source-resolve.ts', 'src/main.ts', ...args];
}

/** A convoy process started from its TypeScript sources (Node 24), with its output collected. */
export interface CliProcess {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  done: Promise<CliRun & { signal: NodeJS.Signals | null }>;
}

export function spawnCli(args: readonly string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, sourceCommand(args), { cwd: APP, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ ...result(code ?? -1, stdout, stderr), signal }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}
