// Runs convoy-backup as a child process, as an operator would: the built CLI
// (apps/backup/bin/convoy-backup.cjs, after `npx nx run-many -t build`), or its TypeScript sources
// with CONVOY_RELIABILITY_CLI=source. Collects stdout, stderr and the `--json` progress lines,
// lets a campaign signal the process at a point it picks, and kills it when it overruns its
// deadline (a hang counts as a failure, never as a wait).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../apps/backup/bin/convoy-backup.cjs', import.meta.url));
const DIST_MAIN = fileURLToPath(new URL('../../apps/backup/dist/bundle/main.js', import.meta.url));
const SOURCE_MAIN = fileURLToPath(new URL('../../apps/backup/src/main.ts', import.meta.url));
const SOURCE_HOOK = fileURLToPath(new URL('../source-resolve.ts', import.meta.url));
const LEASE_HOOK = fileURLToPath(new URL('./lease-ttl.ts', import.meta.url));

export const fromSource = (): boolean => process.env.CONVOY_RELIABILITY_CLI === 'source';

/** Throws with what to do when the built CLI is missing. */
export function assertCliBuilt(): void {
  if (!fromSource() && !existsSync(DIST_MAIN)) {
    throw new Error(`${DIST_MAIN} is missing: run \`npx nx run-many -t build\` first (or set CONVOY_RELIABILITY_CLI=source)`);
  }
}

export interface CliOptions {
  /** Environment added to ours (S3 credentials and endpoint). */
  env?: Record<string, string>;
  /** Lease TTL forced through lease-ttl.ts; undefined keeps the CLI's default (150 s). */
  leaseTtlMs?: number | undefined;
  /** The process is killed (SIGKILL) past this and the result says `timedOut`. */
  timeoutMs: number;
  /** More modules preloaded with --import (daemon-kill-hook.ts, to kill at a filesystem step: kill-run.ts). */
  imports?: string[];
  /** Each complete stderr line, as it arrives. */
  onStderrLine?: (line: string, run: CliRun) => void;
}

export interface CliResult {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout's last line parsed as JSON (`--json`), if it is JSON. */
  json: unknown;
  /** `error.code` of a `--json` error, if any. */
  errorCode: string | undefined;
  errorMessage: string | undefined;
  progressLines: number;
  /** From spawn to exit; and to the first progress line. */
  durationMs: number;
  firstProgressMs: number | undefined;
  timedOut: boolean;
}

export interface CliRun {
  readonly args: string[];
  readonly child: ChildProcess;
  readonly startedAt: number;
  progressLines: number;
  exited: boolean;
  readonly done: Promise<CliResult>;
  signal(sig: NodeJS.Signals): boolean;
  /** Calls `listener` on each progress line from now on (with the count so far). */
  onProgress(listener: (lines: number) => void): void;
}

/** A `--json` progress line on stderr (counted, and left out of failure messages). */
export const isProgressLine = (line: string): boolean => line.startsWith('{"type":"progress"');

/** `convoy-backup ARGS` as a short command line, for logs and reports. */
export const commandLine = (args: readonly string[]): string =>
  ['convoy-backup', ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`))].join(' ');

export function startCli(args: string[], options: CliOptions): CliRun {
  const nodeArgs = [
    ...(options.leaseTtlMs === undefined ? [] : ['--import', LEASE_HOOK]),
    ...(options.imports ?? []).flatMap((m) => ['--import', m]),
    ...(fromSource() ? ['--conditions=@convoy/source', '--import', SOURCE_HOOK, SOURCE_MAIN] : [BIN]),
    ...args,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (options.leaseTtlMs !== undefined) env.CONVOY_RELIABILITY_LEASE_TTL_MS = String(options.leaseTtlMs);
  const child = spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const startedAt = performance.now();
  let stdout = '';
  let stderr = '';
  let partial = '';
  let firstProgressMs: number | undefined;
  let timedOut = false;
  const listeners: ((lines: number) => void)[] = [];
  const run: CliRun = {
    args,
    child,
    startedAt,
    progressLines: 0,
    exited: false,
    done: undefined as unknown as Promise<CliResult>,
    signal: (sig) => !run.exited && child.kill(sig),
    onProgress: (listener) => {
      listeners.push(listener);
    },
  };
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGCONT'); // a stopped process does not die of SIGKILL until continued on some kernels
    child.kill('SIGKILL');
  }, options.timeoutMs);
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    partial += s;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (isProgressLine(line)) {
        run.progressLines++;
        firstProgressMs ??= performance.now() - startedAt;
        for (const l of listeners) l(run.progressLines);
      }
      options.onStderrLine?.(line, run);
    }
  });
  (run as { done: Promise<CliResult> }).done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      run.exited = true;
      resolve(
        parseResult({
          args,
          code,
          signal,
          stdout,
          stderr,
          progressLines: run.progressLines,
          durationMs: performance.now() - startedAt,
          firstProgressMs,
          timedOut,
        }),
      );
    });
  });
  return run;
}

/** A result from what a run printed: stdout's last line parsed as JSON, and its error's code and message. */
export function parseResult(r: Omit<CliResult, 'json' | 'errorCode' | 'errorMessage'>): CliResult {
  const last =
    r.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .at(-1) ?? '';
  let json: unknown;
  try {
    json = JSON.parse(last);
  } catch {
    json = undefined;
  }
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return {
    ...r,
    json,
    errorCode: typeof error?.code === 'string' ? error.code : undefined,
    errorMessage: typeof error?.message === 'string' ? error.message : undefined,
  };
}

export const runCli = (args: string[], options: CliOptions): Promise<CliResult> => startCli(args, options).done;

/** A one-line account of a result, for failure messages. */
export function describeResult(r: CliResult): string {
  const how = r.timedOut ? 'timed out' : r.signal !== null ? `killed by ${r.signal}` : `exit ${r.code}`;
  const why =
    r.errorCode !== undefined
      ? ` ${r.errorCode}: ${r.errorMessage ?? ''}`
      : r.code !== 0
        ? ` stderr: ${r.stderr
            .split('\n')
            .filter((l) => !isProgressLine(l))
            .join(' ')
            .slice(-400)}`
        : '';
  return `${commandLine(r.args)} → ${how} after ${(r.durationMs / 1000).toFixed(2)} s${why}`;
}
