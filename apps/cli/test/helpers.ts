// Shared by the CLI tests: run convoy in-process (runCli) or as a real process from its sources.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { FakeDaemon } from '@convoy/control-api/testing';
import { cliRun, inProcess, type CliRun } from '@convoy/cli-kit/testing';
import { REPO_ROOT } from '../../../tools/vitest/project-defaults.js';
import { runCli } from '../src/cli.js';

export { lastJson, type CliRun, type ErrorJson, type RunOptions } from '@convoy/cli-kit/testing';

/** Runs the CLI in this process with captured output and only the given environment. */
export const cli = inProcess(runCli);

const APP = fileURLToPath(new URL('..', import.meta.url));

/** The command line that runs convoy as a real process from its TypeScript sources (cwd: the app). */
export function sourceCommand(args: readonly string[]): string[] {
  return ['--conditions=@convoy/source', '--import', path.join(REPO_ROOT, 'tools/source-resolve.ts'), 'src/main.ts', ...args];
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
  const child = spawn(process.execPath, sourceCommand(args), {
    cwd: APP,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ ...cliRun(code ?? -1, stdout, stderr), signal }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Starts a fake daemon for the file's tests (reset after each, stopped at the end) and hands it over. */
export function useFakeDaemon(onStart: (daemon: FakeDaemon) => void): void {
  let daemon: FakeDaemon | undefined;
  beforeAll(async () => {
    daemon = await FakeDaemon.start();
    onStart(daemon);
  });
  afterEach(() => daemon?.reset());
  afterAll(async () => {
    await daemon?.stop();
  });
}
