// convoy-backup run inside this process, for the runs a trial does not test (set-up backups and
// deletes, full maintenances, and the checks after it: verify, list, restore):
// the same `runCli` the bin runs (apps/backup/dist/cli.js, or its TypeScript source with
// CONVOY_RELIABILITY_CLI=source), given its own environment, stdout and stderr, without the
// ~0.4 CPU s a process start costs. A crash trial runs about seven checks, so the checks were
// most of a trial's CPU. The operations under test, their re-runs and the final trial of each
// campaign still run the bin as a child process (convoy.ts): what is killed and what is judged
// last is what operators run.
//
// The app is loaded by path, not as a package: tools may depend only on libraries (eslint's
// module boundaries), and this drives the app the way convoy.ts's spawn of its bin does.
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { fromSource, isProgressLine, parseResult, type CliOptions, type CliResult } from './convoy.js';

const DIST_CLI = new URL('../../apps/backup/dist/cli.js', import.meta.url);
const SOURCE_CLI = new URL('../../apps/backup/src/cli.ts', import.meta.url);

/** What @convoy/cli-kit's CliIo holds, as far as runCli needs it here (tools/reliability has no dependency on the CLI's packages). */
interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  isTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
}
type RunCli = (argv: readonly string[], io: CliIo) => Promise<number>;

let loaded: Promise<RunCli> | undefined;

async function load(): Promise<RunCli> {
  const url = fromSource() ? SOURCE_CLI : DIST_CLI;
  const mod = (await import(fileURLToPath(url))) as { runCli?: unknown };
  if (typeof mod.runCli !== 'function') throw new Error(`${fileURLToPath(url)} exports no runCli`);
  return mod.runCli as RunCli;
}

/** A stream that keeps what is written to it. */
function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * Runs `convoy-backup ARGS` in this process and answers what a child process's run would. The
 * lease TTL and preloaded hooks of `options` do not apply (the checks are never killed); past
 * `timeoutMs` the run is aborted and the result says `timedOut`.
 */
export async function runInProcess(args: string[], options: CliOptions): Promise<CliResult> {
  loaded ??= load();
  const runCli = await loaded;
  const out = collector();
  const err = collector();
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
  const startedAt = performance.now();
  let code: number;
  try {
    code = await runCli(args, {
      stdout: out.stream,
      stderr: err.stream,
      isTTY: false,
      env: { ...process.env, ...options.env },
      signal: timeout.signal,
    });
  } finally {
    clearTimeout(timer);
  }
  const stderr = err.text();
  return parseResult({
    args,
    code,
    signal: null,
    stdout: out.text(),
    stderr,
    progressLines: stderr.split('\n').filter(isProgressLine).length,
    durationMs: performance.now() - startedAt,
    firstProgressMs: undefined,
    timedOut: timeout.signal.aborted,
  });
}
