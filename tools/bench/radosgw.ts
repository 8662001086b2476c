// A throw-away Ceph radosgw for a benchmark run, started and stopped through tools/ceph-s3.sh
// (one mon + one in-memory OSD on loopback; the same recipe the tests use).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeCephPortPair } from '../vitest/ceph-ports.js';

const CEPH_S3 = fileURLToPath(new URL('../ceph-s3.sh', import.meta.url));

export interface RadosgwOptions {
  /** Capacity of the in-memory OSD (CEPH_S3_BYTES); it must hold the largest run's objects. */
  osdBytes: number;
  log: (line: string) => void;
}

/**
 * One radosgw, not started yet: register `stopSync` for process exit first, then `start`, so that
 * nothing can be left running, whenever the process is interrupted.
 */
export class Radosgw {
  readonly #options: RadosgwOptions;
  #dir: string | undefined;
  #starter: ChildProcess | undefined;
  /** Set once a stop has finished (stopSync may still run while an async stop is under way). */
  #stopped = false;
  #stopping: Promise<void> | undefined;

  constructor(options: RadosgwOptions) {
    this.#options = options;
  }

  /**
   * Starts radosgw on a free port and answers its endpoint. On failure or abort whatever was
   * started is stopped before this throws.
   */
  async start(signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    const port = await freeCephPortPair();
    const dir = mkdtempSync(join(tmpdir(), 'convoy-bench-ceph-'));
    this.#dir = dir;
    this.#options.log(`starting radosgw on 127.0.0.1:${port} (${dir})`);
    const began = performance.now();
    const onAbort = (): void => void this.#killStarter();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const { code, stdout } = await this.#run(['start', dir, String(port)], { CEPH_S3_BYTES: String(this.#options.osdBytes) }, true);
      signal.throwIfAborted();
      if (code !== 0) throw new Error(`tools/ceph-s3.sh start exited ${code} (its log tails are above)`);
      const endpoint = stdout.trim().split('\n').pop() ?? `http://127.0.0.1:${port}`;
      this.#options.log(`radosgw ready at ${endpoint} in ${((performance.now() - began) / 1000).toFixed(1)} s`);
      return endpoint;
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Stops the daemons and removes their directory; safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const dir = this.#dir;
    if (this.#stopped || dir === undefined) return;
    await this.#killStarter();
    const { code } = await this.#run(['stop', dir], {}, false);
    this.#stopped = true;
    rmSync(dir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`tools/ceph-s3.sh stop ${dir} exited ${code}`);
    this.#options.log('radosgw stopped');
  }

  /** The same, synchronously: for process 'exit' and a second Ctrl-C (also while stop() runs). */
  readonly stopSync = (): void => {
    const dir = this.#dir;
    if (this.#stopped || dir === undefined) return;
    this.#stopped = true;
    for (const pid of this.#starterTree()) signalPid(pid, 'SIGTERM');
    spawnSync('bash', [CEPH_S3, 'stop', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };

  /**
   * Ends a start script that is still running, with everything it started so far. Not only its
   * process group: `timeout` (around radosgw-admin and the mon commands) puts itself in a group of
   * its own, so the tree is found through parent pids. The daemons are in it too; stop handles
   * any that are not.
   */
  async #killStarter(): Promise<void> {
    const starter = this.#starter;
    if (starter === undefined || starter.exitCode !== null || starter.signalCode !== null) return;
    const closed = new Promise((resolve) => starter.once('close', resolve));
    for (const pid of this.#starterTree()) signalPid(pid, 'SIGTERM');
    await closed;
  }

  /** The start script and its descendants, parents first. */
  #starterTree(): number[] {
    const root = this.#starter?.pid;
    if (root === undefined || this.#starter?.exitCode !== null || this.#starter.signalCode !== null) return [];
    const children = new Map<number, number[]>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    }
    const tree = [root];
    for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []));
    return tree;
  }

  #run(args: string[], env: Record<string, string>, isStart: boolean): Promise<{ code: number; stdout: string }> {
    return new Promise((resolve, reject) => {
      // Own process group (detached): Ctrl-C reaches only us, and we decide what to stop.
      // stdout is the endpoint; stderr (log tails on failure) goes to ours.
      const child = spawn('bash', [CEPH_S3, ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, ...env },
        detached: true,
      });
      if (isStart) this.#starter = child;
      let stdout = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
      });
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code: code ?? (signal === null ? 1 : 128), stdout }));
    });
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
