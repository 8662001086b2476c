/**
 * `convoy daemon [convoy-daemon options]`: runs convoy-daemon (package @convoy/daemon, bin
 * convoy-daemon) with the same Node and the remaining arguments, and exits with its exit code.
 * Which file runs, first match wins:
 *   1. $CONVOY_DAEMON_BIN (a .js/.mjs/.ts file runs under this Node, anything else is executed);
 *   2. when convoy itself runs from its TypeScript sources (`--conditions=@convoy/source`),
 *      the daemon's src/main.ts with this process's Node flags;
 *   3. the `convoy-daemon` bin of @convoy/daemon, found as Node resolves the package from here,
 *      once the package is built (its dist/ exists).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from '@convoy/cli-kit';
import { InterruptedError } from './errors.js';
import type { CliIo } from './context.js';

const PACKAGE = '@convoy/daemon';
const BIN = 'convoy-daemon';

/** The program and arguments that start convoy-daemon. */
export interface DaemonLaunch {
  command: string;
  args: string[];
}

export interface ResolveOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Where the package lookup starts (default: this file). */
  from?: string;
  /** Whether convoy runs from its sources (default: this file is .ts). */
  fromSource?: boolean;
}

const notFound = (message: string, hint: string): CliError => new CliError('CONVOY_DAEMON_NOT_FOUND', message, { hint });

export function resolveDaemon(options: ResolveOptions): DaemonLaunch {
  const explicit = options.env.CONVOY_DAEMON_BIN;
  if (explicit !== undefined && explicit !== '') {
    const file = path.resolve(explicit);
    if (!existsSync(file))
      throw notFound(
        `CONVOY_DAEMON_BIN names ${file}, which does not exist`,
        'point CONVOY_DAEMON_BIN at convoy-daemon (its dist/main.js), or unset it',
      );
    return /\.(?:[cm]?js|ts)$/.test(file) ? { command: process.execPath, args: [file] } : { command: file, args: [] };
  }
  const from = options.from ?? fileURLToPath(import.meta.url);
  const fromSource = options.fromSource ?? from.endsWith('.ts');
  const root = (options.from === undefined ? resolvedRoot() : undefined) ?? searchedRoot(from);
  if (root === undefined) {
    throw notFound(
      `cannot find convoy-daemon: the package ${PACKAGE} is not installed next to convoy`,
      `install ${PACKAGE}, run \`${BIN}\` directly, or set CONVOY_DAEMON_BIN=/path/to/convoy-daemon/dist/main.js`,
    );
  }
  const source = path.join(root, 'src', 'main.ts');
  if (fromSource && existsSync(source)) return { command: process.execPath, args: [...process.execArgv, source] };
  const bin = path.resolve(root, binOf(root));
  const dist = path.join(root, 'dist');
  if (existsSync(bin) && existsSync(dist)) return { command: process.execPath, args: [bin] };
  throw notFound(
    `convoy-daemon is not built: ${existsSync(bin) ? dist : bin} does not exist`,
    `build it with \`npx nx build ${PACKAGE}\`, or set CONVOY_DAEMON_BIN`,
  );
}

/** The directory of @convoy/daemon as Node resolves the package from this module, or undefined. */
function resolvedRoot(): string | undefined {
  try {
    // Through the package's exports: its built index, or src/index.ts under @convoy/source.
    const entry = fileURLToPath(import.meta.resolve(PACKAGE));
    for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      if (isDaemonPackage(dir)) return dir;
    }
  } catch {
    // not resolvable as a module (not installed, or its entry not built yet)
  }
  return undefined;
}

/** node_modules/@convoy/daemon in `from`'s directory or any above it (as Node searches), or undefined. */
function searchedRoot(from: string): string | undefined {
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', ...PACKAGE.split('/'));
    if (isDaemonPackage(candidate)) return candidate;
    if (dir === path.dirname(dir)) return undefined;
  }
}

function readPackage(dir: string): { name?: unknown; bin?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; bin?: unknown };
  } catch {
    return undefined;
  }
}

const isDaemonPackage = (dir: string): boolean => readPackage(dir)?.name === PACKAGE;

function binOf(root: string): string {
  const bin = readPackage(root)?.bin;
  if (typeof bin === 'string') return bin;
  if (typeof bin === 'object' && bin !== null && typeof (bin as Record<string, unknown>)[BIN] === 'string')
    return (bin as Record<string, string>)[BIN] as string;
  return 'dist/main.js';
}

const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs convoy-daemon until it exits; resolves to its exit code (128 + signal number if a signal
 * ended it). With `io.ownsProcess` (main.ts) the daemon gets this process's stdio in a process
 * group of its own, and every SIGINT / SIGTERM / SIGHUP this process receives is passed on once,
 * so a Ctrl-C reaches it once (not from the terminal and again from us).
 */
export async function runDaemon(
  args: readonly string[],
  io: CliIo,
  launch: DaemonLaunch = resolveDaemon({ env: io.env }),
): Promise<number> {
  const owns = io.ownsProcess === true;
  let child: ChildProcess;
  try {
    child = spawn(launch.command, [...launch.args, ...args], {
      stdio: owns ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      detached: owns,
      env: { ...io.env },
    });
  } catch (err) {
    throw new CliError('CONVOY_DAEMON_START_FAILED', `cannot start convoy-daemon (${launch.command}): ${(err as Error).message}`, {
      cause: err,
    });
  }
  child.stdout?.pipe(io.stdout, { end: false });
  child.stderr?.pipe(io.stderr, { end: false });
  const forward = (signal: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const onAbort = (): void => {
    const reason: unknown = io.signal?.reason;
    forward(reason instanceof InterruptedError && isSignal(reason.signal) ? reason.signal : 'SIGTERM');
  };
  if (owns) for (const s of FORWARDED) process.on(s, forward);
  io.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (err) =>
        reject(
          new CliError('CONVOY_DAEMON_START_FAILED', `cannot start convoy-daemon (${launch.command}): ${err.message}`, {
            hint: 'check the path and its permissions, or set CONVOY_DAEMON_BIN',
            cause: err,
          }),
        ),
      );
      child.once('close', (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0))));
    });
  } finally {
    if (owns) for (const s of FORWARDED) process.off(s, forward);
    io.signal?.removeEventListener('abort', onAbort);
  }
}

const isSignal = (s: string): s is NodeJS.Signals => s in constants.signals;
