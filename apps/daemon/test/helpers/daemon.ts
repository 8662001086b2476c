// convoy-daemon as a real child process, run from its TypeScript sources (tools/source-resolve.ts),
// for the Docker end-to-end tests: start, wait until ready, kill -9, restart with the same state,
// stop with SIGTERM. Its log (pino JSON on stderr) is kept in memory and in .test-logs/docker/.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, lstatSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_DIR, REPO_ROOT } from './env.js';

export interface DaemonSpec {
  /** Names the log file (.test-logs/docker/<label>.log). */
  label: string;
  root: string;
  /** vfs base path (--driver-opts vfs.path=…); two daemons given the same one share volumes. */
  vfsPath: string;
  /** The socket Docker finds by itself (--plugin-socket), or `none`. */
  socket: string;
  /** --socket: the control API, and Docker's protocol too. */
  controlSocket: string;
  /** Started as `convoy --socket CONTROL daemon …` (Rancher Convoy's syntax, through the convoy CLI) instead of convoy-daemon. */
  throughCli?: boolean;
  hostId: string;
  /** More flags, e.g. --create-on-docker-mount. */
  args?: string[];
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const READY = '"msg":"convoy-daemon ready"';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

// A worker that dies must not leave a daemon holding /run/docker/plugins/convoy.sock.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The command line that runs convoy-daemon from source (cwd: the repository root). */
export function daemonCommand(spec: DaemonSpec): string[] {
  const entry =
    spec.throughCli === true
      ? ['apps/cli/src/main.ts', '--socket', spec.controlSocket, 'daemon']
      : ['apps/daemon/src/main.ts', '--socket', spec.controlSocket];
  return [
    '--conditions=@convoy/source',
    '--import',
    './tools/source-resolve.ts',
    ...entry,
    '--root',
    spec.root,
    '--drivers',
    'vfs',
    '--driver-opts',
    `vfs.path=${spec.vfsPath}`,
    '--plugin-socket',
    spec.socket,
    '--host-id',
    spec.hostId,
    '--log-level',
    'debug',
    ...(spec.args ?? []),
  ];
}

function nodeBinary(): string {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22)
    throw new Error(`the tests run on Node ${process.versions.node}; convoy-daemon from source needs Node 24 (use npx vitest)`);
  return process.execPath;
}

function daemonEnv(): NodeJS.ProcessEnv {
  // no NODE_OPTIONS or vitest variables: the daemon runs as an operator would start it
  return { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8' };
}

export class ConvoyDaemon {
  readonly spec: DaemonSpec;
  readonly logFile: string;
  #child: ChildProcess | undefined;
  #exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  #log = '';

  private constructor(spec: DaemonSpec) {
    this.spec = spec;
    mkdirSync(LOG_DIR, { recursive: true });
    this.logFile = join(LOG_DIR, `${spec.label}.log`);
    writeFileSync(this.logFile, '');
  }

  /** Starts the daemon and resolves once it logged "convoy-daemon ready". */
  static async start(spec: DaemonSpec): Promise<ConvoyDaemon> {
    const daemon = new ConvoyDaemon(spec);
    await daemon.#spawn();
    return daemon;
  }

  /**
   * Runs a daemon that is expected not to start (e.g. its socket is taken) and resolves with its
   * exit and output once it has exited.
   */
  static async runToExit(spec: DaemonSpec, timeoutMs = START_TIMEOUT_MS): Promise<Exit & { stderr: string }> {
    const child = spawn(nodeBinary(), daemonCommand(spec), { cwd: REPO_ROOT, env: daemonEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      return await new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`convoy-daemon (${spec.label}) was expected to exit but still ran after ${timeoutMs} ms:\n${stderr}`));
        }, timeoutMs);
        child.once('error', reject);
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, stderr });
        });
      });
    } finally {
      live.delete(child);
    }
  }

  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error(`convoy-daemon (${this.spec.label}) is not running`);
    return pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Everything the daemon logged so far (all runs). */
  get log(): string {
    return this.#log;
  }

  /** SIGKILL, as a crash would; resolves once the process is gone. Its socket files stay behind. */
  async kill9(): Promise<Exit> {
    const child = this.#child;
    if (child === undefined || !this.running) throw new Error(`convoy-daemon (${this.spec.label}) is not running`);
    child.kill('SIGKILL');
    return this.#exited;
  }

  /** Starts it again with the same flags (same root, sockets and base path). */
  async restart(): Promise<void> {
    if (this.running) throw new Error(`convoy-daemon (${this.spec.label}) is still running`);
    await this.#spawn();
  }

  /** SIGTERM (drain, remove its sockets, exit); SIGKILL if it has not exited in time. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<Exit> {
    const child = this.#child;
    if (child === undefined || !this.running) return this.#exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** For afterAll: stops it, then removes socket files a kill -9 may have left. */
  async dispose(): Promise<void> {
    await this.stop();
    for (const socket of [this.spec.socket, this.spec.controlSocket]) removeStaleSocket(socket);
  }

  #spawn(): Promise<void> {
    const child = spawn(nodeBinary(), daemonCommand(this.spec), { cwd: REPO_ROOT, env: daemonEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    live.add(child);
    this.#record(`--- convoy-daemon ${this.spec.label} started: pid ${child.pid ?? '?'} ${new Date().toISOString()}\n`);
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.#record(
          `--- convoy-daemon ${this.spec.label} exited: code ${String(code)} signal ${String(signal)} ${new Date().toISOString()}\n`,
        );
        resolve({ code, signal });
      });
    });
    const startLog = this.#log.length;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done(new Error(`convoy-daemon (${this.spec.label}) not ready after ${START_TIMEOUT_MS} ms:\n${this.#log.slice(startLog)}`));
      }, START_TIMEOUT_MS);
      const onData = (chunk: string): void => {
        this.#record(chunk);
        if (this.#log.slice(startLog).includes(READY)) done();
      };
      child.stdout?.setEncoding('utf8').on('data', onData);
      child.stderr?.setEncoding('utf8').on('data', onData);
      child.once('error', (err) => done(err));
      child.once('exit', (code, signal) =>
        done(
          new Error(
            `convoy-daemon (${this.spec.label}) exited (code ${String(code)}, signal ${String(signal)}) before it was ready:\n${this.#log.slice(startLog)}`,
          ),
        ),
      );
    });
  }

  #record(text: string): void {
    this.#log += text;
    appendFileSync(this.logFile, text);
  }
}

/** Removes a socket file nobody serves any more (left by kill -9); anything else stays. */
export function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // absent
  }
}
