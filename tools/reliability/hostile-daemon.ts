// convoy-daemon as a child process for the hostile-input campaign, started as an operator would
// (the build in apps/daemon/dist, or its sources with CONVOY_RELIABILITY_CLI=source): the vfs
// driver, its own --root and vfs path, both sockets in a directory of the campaign, scheduled
// maintenance off, cwd an empty directory (a relative path written by mistake lands there and is
// seen). Its log (stdout and stderr) is kept in a file for the secrets check. An exit while the
// campaign runs is a crash.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromSource } from './convoy.js';

const BIN = fileURLToPath(new URL('../../apps/daemon/bin/convoy-daemon.cjs', import.meta.url));
const DIST_MAIN = fileURLToPath(new URL('../../apps/daemon/dist/main.js', import.meta.url));
const SOURCE_MAIN = fileURLToPath(new URL('../../apps/daemon/src/main.ts', import.meta.url));
const SOURCE_HOOK = fileURLToPath(new URL('../source-resolve.ts', import.meta.url));
const READY = '"msg":"convoy-daemon ready"';

export interface DaemonPaths {
  root: string;
  vfsPath: string;
  pluginSocket: string;
  controlSocket: string;
  cwd: string;
  logFile: string;
}

export function daemonPaths(dir: string): DaemonPaths {
  return {
    root: path.join(dir, 'root'),
    vfsPath: path.join(dir, 'vfs'),
    pluginSocket: path.join(dir, 'sock', 'plugin.sock'),
    controlSocket: path.join(dir, 'sock', 'control.sock'),
    cwd: path.join(dir, 'cwd'),
    logFile: path.join(dir, 'daemon.log'),
  };
}

export class HostileDaemon {
  readonly paths: DaemonPaths;
  readonly #child: ChildProcess;
  readonly #log: WriteStream;
  #exit: string | undefined;
  readonly exited: Promise<string>;

  private constructor(paths: DaemonPaths, child: ChildProcess, log: WriteStream) {
    this.paths = paths;
    this.#child = child;
    this.#log = log;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = `exit code ${String(code)}, signal ${String(signal)}`;
        resolve(this.#exit);
      });
    });
  }

  /** Starts the daemon and resolves once it logged that it is ready. `env` is added to a bare environment. */
  static async start(paths: DaemonPaths, env: Record<string, string> = {}, extraArgs: string[] = []): Promise<HostileDaemon> {
    if (!fromSource() && !existsSync(DIST_MAIN))
      throw new Error(`${DIST_MAIN} is missing: run \`npx nx run-many -t build\` first (or set CONVOY_RELIABILITY_CLI=source)`);
    for (const d of [paths.root, paths.vfsPath, paths.cwd, path.dirname(paths.pluginSocket)]) mkdirSync(d, { recursive: true });
    const args = [
      ...(fromSource() ? ['--conditions=@convoy/source', '--import', SOURCE_HOOK, SOURCE_MAIN] : [BIN]),
      '--root',
      paths.root,
      '--drivers',
      'vfs',
      '--driver-opts',
      `vfs.path=${paths.vfsPath}`,
      '--plugin-socket',
      paths.pluginSocket,
      '--socket',
      paths.controlSocket,
      '--host-id',
      'hostile',
      '--log-level',
      'debug',
      '--maintenance-interval',
      'off',
      '--full-maintenance-interval',
      'off',
      ...extraArgs,
    ];
    const child = spawn(process.execPath, args, {
      cwd: paths.cwd,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(paths.logFile, { flags: 'a' });
    const daemon = new HostileDaemon(paths, child, log);
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`convoy-daemon not ready after 60 s:\n${seen.slice(-2000)}`));
      }, 60_000);
      const onData = (chunk: Buffer): void => {
        log.write(chunk);
        if (!seen.includes(READY)) {
          seen += chunk.toString('utf8');
          if (seen.includes(READY)) {
            clearTimeout(timer);
            resolve();
          }
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      void daemon.exited.then((how) => {
        clearTimeout(timer);
        reject(new Error(`convoy-daemon exited (${how}) before it was ready:\n${seen.slice(-2000)}`));
      });
    });
    return daemon;
  }

  /** Undefined while running; how it ended once it has. */
  get exit(): string | undefined {
    return this.#exit;
  }

  /** SIGTERM (it drains and exits), SIGKILL past 20 s; resolves with how it ended. */
  async stop(): Promise<string> {
    if (this.#exit === undefined) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 20_000);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.#log.end(resolve));
    return this.#exit ?? 'stopped';
  }
}
