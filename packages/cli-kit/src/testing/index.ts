// For the CLIs' tests: run a CLI in-process with captured output, and read what it printed.
import { Writable } from 'node:stream';
import type { CliIo } from '../io.js';

/** What one run of a CLI printed, and its exit code. */
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
  /** Answers the CLI's secret prompts as a terminal user would (absent: no terminal). */
  readSecret?: (prompt: string) => Promise<string>;
}

/** A `--json` error, as the last stdout line holds it. */
export interface ErrorJson {
  error: { code: string; message: string; hint?: string };
}

/** A CLI's runCli(argv, io). */
export type RunCli = (argv: readonly string[], io: CliIo) => Promise<number>;

/** A CliRun from an exit code and everything printed (a spawned CLI's too). */
export function cliRun(code: number, stdout: string, stderr: string): CliRun {
  const lines = stdout.split('\n').filter((l) => l !== '');
  return { code, stdout, stderr, lines, last: lines.at(-1) ?? '' };
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

/**
 * The `cli(args, options)` of a CLI's tests: runs `runCli` in this process with captured output,
 * stderr not a terminal (unless `isTTY`) and only the given environment (none by default).
 */
export function inProcess(runCli: RunCli): (args: string[], options?: RunOptions) => Promise<CliRun> {
  return async (args, options = {}) => {
    const out = sink();
    const err = sink(options.onStderr);
    const code = await runCli(args, {
      stdout: out.stream,
      stderr: err.stream,
      isTTY: options.isTTY ?? false,
      env: options.env ?? {},
      signal: options.signal,
      ...(options.readSecret === undefined ? {} : { readSecret: options.readSecret }),
    });
    return cliRun(code, out.text(), err.text());
  };
}

/** The last stdout line parsed as JSON (what --json promises). */
export function lastJson<T = Record<string, unknown>>(run: CliRun): T {
  return JSON.parse(run.last) as T;
}

export { FAKE_OLD_VERSION, oldNodeOnPath, type OldNode } from './old-node.js';
