// convoy-daemon as a child process for the daemon and shared-vfs campaigns: the build
// (apps/daemon/bin/convoy-daemon.cjs) or its sources (CONVOY_RELIABILITY_CLI=source), started as a
// process-group leader with daemon-kill-hook.ts preloaded (and lease-ttl.ts: the backups it makes
// hold 6 s leases, so a killed backup's lease never makes a re-run wait 150 s). Ready when it logs
// "convoy-daemon ready"; killed with SIGKILL of its group (as systemd's control-group kill);
// restarted with the same flags. Its log is kept in memory for failure messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromSource, REPO_ROOT } from './convoy.js';
import { UnixHttp } from './unix-http.js';

const BIN = fileURLToPath(new URL('../../apps/daemon/bin/convoy-daemon.cjs', import.meta.url));
const DIST_MAIN = fileURLToPath(new URL('../../apps/daemon/dist/main.js', import.meta.url));
const SOURCE_MAIN = fileURLToPath(new URL('../../apps/daemon/src/main.ts', import.meta.url));
const SOURCE_HOOK = fileURLToPath(new URL('../source-resolve.ts', import.meta.url));
const KILL_HOOK = fileURLToPath(new URL('./daemon-kill-hook.ts', import.meta.url));
const LEASE_HOOK = fileURLToPath(new URL('./lease-ttl.ts', import.meta.url));
const READY = '"msg":"convoy-daemon ready"';

export function assertDaemonBuilt(): void {
  if (!fromSource() && !existsSync(DIST_MAIN))
    throw new Error(`${DIST_MAIN} is missing: run \`npx nx run-many -t build\` first (or set CONVOY_RELIABILITY_CLI=source)`);
}

export interface DaemonSpec {
  label: string;
  /** The campaign's directory: steps are counted under it; sockets and state live in it. */
  dir: string;
  root: string;
  vfsPath: string;
  hostId: string;
  leaseTtlMs: number;
  startTimeoutMs: number;
  /** More flags (e.g. --backup-password-file). */
  extraArgs?: string[];
}

export interface KillPlan {
  /** Die at this step of the armed operation (null: count only). */
  step: number | null;
  delayMs?: number;
  /** Kill the daemon alone; the programs it started run on. */
  processOnly?: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class DaemonProcess {
  readonly spec: DaemonSpec;
  readonly control: UnixHttp;
  readonly plugin: UnixHttp;
  #child: ChildProcess | undefined;
  #exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  #log = '';
  #runStart = 0;
  /** Steps told by the hook since it was last armed, and the step it died at. */
  steps: string[] = [];
  killedAtStep: number | undefined;
  starts = 0;

  constructor(spec: DaemonSpec) {
    this.spec = spec;
    this.control = new UnixHttp(this.controlSocket);
    this.plugin = new UnixHttp(this.pluginSocket, { Accept: 'application/vnd.docker.plugins.v1.2+json' });
  }

  get controlSocket(): string {
    return path.join(this.spec.dir, `${this.spec.label}.ctl.sock`);
  }

  get pluginSocket(): string {
    return path.join(this.spec.dir, `${this.spec.label}.plugin.sock`);
  }

  get planFile(): string {
    return path.join(this.spec.dir, `${this.spec.label}.kill-plan.json`);
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error(`convoy-daemon ${this.spec.label} is not running`);
    return pid;
  }

  /** The log of the current (or last) run, for failure messages. */
  get runLog(): string {
    return this.#log.slice(this.#runStart);
  }

  /** How the process ended (resolves at once if it is not running). */
  get exited(): Promise<Exit> {
    return this.#exited;
  }

  args(): string[] {
    const s = this.spec;
    return [
      '--import',
      LEASE_HOOK,
      '--import',
      KILL_HOOK,
      ...(fromSource() ? ['--conditions=@convoy/source', '--import', SOURCE_HOOK, SOURCE_MAIN] : [BIN]),
      ...['--root', s.root, '--drivers', 'vfs', '--driver-opts', `vfs.path=${s.vfsPath}`, '--host-id', s.hostId],
      ...[
        '--plugin-socket',
        this.pluginSocket,
        '--socket',
        this.controlSocket,
        '--maintenance-interval',
        'off',
        '--full-maintenance-interval',
        'off',
        '--log-level',
        'info',
      ],
      ...(s.extraArgs ?? []),
    ];
  }

  /**
   * Starts it with the hook armed from the process's start (its recovery is counted in steps):
   * 'killed' if the plan killed it before it was ready, else 'ready' (and the hook disarmed).
   */
  async startKilled(plan: KillPlan): Promise<'killed' | 'ready'> {
    try {
      await this.start(plan);
    } catch (err) {
      await this.#exited;
      if (this.killedAtStep !== undefined) return 'killed';
      throw err;
    }
    await this.arm({ step: 0 });
    return 'ready';
  }

  /** Starts it and resolves once it is ready; rejects with its log if it exits first. */
  async start(atStart?: KillPlan): Promise<void> {
    if (this.running) throw new Error(`convoy-daemon ${this.spec.label} is already running`);
    for (const socket of [this.controlSocket, this.pluginSocket]) removeStaleSocket(socket);
    this.control.reset();
    this.plugin.reset();
    this.starts++;
    this.#runStart = this.#log.length;
    this.steps = [];
    this.killedAtStep = undefined;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      LANG: 'C.UTF-8',
      CONVOY_RELIABILITY_STEP_ROOT: this.spec.dir,
      CONVOY_RELIABILITY_KILL_PLAN: this.planFile,
      CONVOY_RELIABILITY_LEASE_TTL_MS: String(this.spec.leaseTtlMs),
      ...(atStart === undefined ? {} : { CONVOY_RELIABILITY_KILL_AT_START: JSON.stringify(atStart) }),
    };
    const child = spawn(process.execPath, this.args(), { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let partial = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#log += chunk;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^reliability-hook: (step (\d+) .*|kill at step (\d+))$/.exec(line);
        if (m?.[2] !== undefined) this.steps.push(m[1] as string);
        if (m?.[3] !== undefined) this.killedAtStep = Number(m[3]);
        for (const w of this.#waiters.splice(0)) w(line);
      }
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#killGroup();
        reject(new Error(`convoy-daemon ${this.spec.label} not ready after ${this.spec.startTimeoutMs} ms:\n${this.runLog.slice(-3000)}`));
      }, this.spec.startTimeoutMs);
      const check = (): void => {
        if (this.runLog.includes(READY)) {
          clearTimeout(timer);
          resolve();
        } else this.#waiters.push(check);
      };
      check();
      void this.#exited.then((e) => {
        clearTimeout(timer);
        reject(
          new Error(
            `convoy-daemon ${this.spec.label} exited (code ${String(e.code)}, signal ${String(e.signal)}) before it was ready:\n${this.runLog.slice(-3000)}`,
          ),
        );
      });
    });
  }

  #waiters: ((line: string) => void)[] = [];

  /** Arms the hook with `plan` and resolves once it answered. */
  async arm(plan: KillPlan): Promise<void> {
    writeFileSync(this.planFile, JSON.stringify(plan));
    this.steps = [];
    this.killedAtStep = undefined;
    const acked = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`convoy-daemon ${this.spec.label}: the kill hook did not answer SIGUSR2`)), 10_000);
      const wait = (line: string): void => {
        if (line.startsWith('reliability-hook: armed')) {
          clearTimeout(timer);
          resolve();
        } else this.#waiters.push(wait);
      };
      this.#waiters.push(wait);
    });
    this.#child?.kill('SIGUSR2');
    await acked;
  }

  /** SIGKILL of the daemon's process group, as a crash under systemd; resolves once it is gone. */
  async kill9(): Promise<Exit> {
    if (!this.running) return this.#exited;
    this.#killGroup();
    return this.#exited;
  }

  #killGroup(): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      this.#child?.kill('SIGKILL');
    }
  }

  /** SIGTERM (drain, exit 0); SIGKILL if it has not exited within 20 s. */
  async stop(): Promise<Exit> {
    if (!this.running) return this.#exited;
    this.#child?.kill('SIGTERM');
    const timer = setTimeout(() => this.#killGroup(), 20_000);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.control.reset();
    this.plugin.reset();
  }
}

function removeStaleSocket(file: string): void {
  try {
    if (lstatSync(file).isSocket()) unlinkSync(file);
  } catch {
    // absent
  }
}
