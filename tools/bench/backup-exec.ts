// Runs one tool step as a child process under GNU time, so wall time and peak RSS are measured the
// same way for every tool (Convoy, borg, restic), plus the page-cache and disk helpers around it.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface Measured {
  /** Wall seconds of the tool itself (GNU time %e). */
  toolSeconds: number;
  /** Seconds of the `sync` run right after it: writes the tool left in the page cache. */
  syncSeconds: number;
  /** toolSeconds + syncSeconds: what the tables show. */
  seconds: number;
  /** Peak resident set of the process (and any children it waited for), KiB (GNU time %M). */
  maxRssKiB: number;
  userSeconds: number;
  systemSeconds: number;
  /**
   * CPU seconds the rest of the machine used while the tool ran (all CPUs' busy time from
   * /proc/stat minus the tool's user + system): other work competing for the cores. Near 0 for a
   * clean measurement.
   */
  otherCpuSeconds: number;
  stdout: string;
}

export interface RunSpec {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Shown in errors and the log. */
  label: string;
  signal: AbortSignal;
}

export class StepFailedError extends Error {
  constructor(label: string, detail: string) {
    super(`${label} failed: ${detail}`);
    this.name = 'StepFailedError';
  }
}

/**
 * Runs `command args` under `/usr/bin/time -f '%e %M %U %S'`, then `sync` (timed too). Throws
 * StepFailedError with the tail of stderr when the tool exits non-zero: a failed step has no
 * timing worth reporting.
 */
export async function measure(spec: RunSpec): Promise<Measured> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'convoy-bench-time-'));
  const timeFile = path.join(scratch, 'time');
  try {
    const before = await cpuBusySeconds();
    const { code, stdout, stderr } = await run(GNU_TIME, ['-f', '%e %M %U %S', '-o', timeFile, spec.command, ...spec.args], spec);
    const busy = (await cpuBusySeconds()) - before;
    if (code !== 0) throw new StepFailedError(spec.label, `exit ${code}: ${tail(stderr)}`);
    const fields = (await readFile(timeFile, 'utf8')).trim().split('\n').pop()?.split(' ').map(Number) ?? [];
    const [toolSeconds, maxRssKiB, userSeconds, systemSeconds] = fields;
    if (fields.length !== 4 || fields.some((n) => !Number.isFinite(n)))
      throw new StepFailedError(spec.label, `cannot parse GNU time output in ${timeFile}`);
    const syncStarted = performance.now();
    await syncDisks(spec.signal);
    const syncSeconds = (performance.now() - syncStarted) / 1000;
    return {
      toolSeconds: toolSeconds as number,
      syncSeconds,
      seconds: (toolSeconds as number) + syncSeconds,
      maxRssKiB: maxRssKiB as number,
      userSeconds: userSeconds as number,
      systemSeconds: systemSeconds as number,
      otherCpuSeconds: Math.max(0, busy - (userSeconds as number) - (systemSeconds as number)),
      stdout,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a child to completion, collecting its output (the tail of stderr is enough for errors). */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; signal: AbortSignal },
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
      killSignal: 'SIGTERM',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(-64 * 1024);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr }));
  });
}

function tail(text: string): string {
  const lines = text.trim().split('\n');
  return lines.slice(-15).join('\n') || '(no stderr)';
}

/** Busy CPU seconds of all CPUs since boot (/proc/stat: user nice system irq softirq steal; USER_HZ = 100). */
export async function cpuBusySeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / 100;
}

/**
 * Waits until the machine is quiet — other processes used less than `maxBusyCpus` CPUs over a
 * 1 s sample — for at most `maxWaitSeconds`. Answers the busy CPUs of the last sample (so the
 * caller can say it went ahead on a busy machine).
 */
export async function waitForQuiet(maxBusyCpus: number, maxWaitSeconds: number, signal: AbortSignal): Promise<number> {
  const deadline = performance.now() + maxWaitSeconds * 1000;
  for (;;) {
    const before = await cpuBusySeconds();
    await sleep(1000);
    signal.throwIfAborted();
    const busy = (await cpuBusySeconds()) - before;
    if (busy < maxBusyCpus || performance.now() >= deadline) return busy;
  }
}

export async function syncDisks(signal: AbortSignal): Promise<void> {
  const { code, stderr } = await run('sync', [], { signal });
  if (code !== 0) throw new Error(`sync failed: ${tail(stderr)}`);
}

/**
 * Writes back dirty pages and empties the page cache, so every step reads from the disk. Answers
 * false (and the run reports "warm cache") where that is not allowed (not root, a container).
 */
export async function dropCaches(signal: AbortSignal): Promise<boolean> {
  await syncDisks(signal);
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

/** Bytes under a directory as `du -sb` counts them (apparent sizes, each hard link once). */
export async function duBytes(dir: string, signal: AbortSignal): Promise<number> {
  const { code, stdout, stderr } = await run('du', ['-sb', dir], { signal });
  const bytes = Number(stdout.split('\t')[0]);
  if (code !== 0 || !Number.isFinite(bytes)) throw new Error(`du -sb ${dir} failed: ${tail(stderr)}`);
  return bytes;
}

/** Runs a setup command (not measured); throws with its stderr on failure. */
export async function setup(
  label: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; signal: AbortSignal },
): Promise<string> {
  const { code, stdout, stderr } = await run(command, args, options);
  if (code !== 0) throw new StepFailedError(label, `exit ${code}: ${tail(stderr)}`);
  return stdout;
}

/**
 * What runs before every measured step: wait (up to `quietWaitSeconds`) for the machine to be
 * quiet, then drop the page cache (unless `warm`). `cacheDropped` turns false, with one log line,
 * the first time dropping is not allowed.
 */
export class StepPreparer {
  cacheDropped: boolean;
  readonly #o: { quietWaitSeconds: number; quietCpus: number; warm: boolean };
  readonly #signal: AbortSignal;
  readonly #log: (line: string) => void;

  constructor(o: { quietWaitSeconds: number; quietCpus: number; warm: boolean }, signal: AbortSignal, log: (line: string) => void) {
    this.#o = o;
    this.#signal = signal;
    this.#log = log;
    this.cacheDropped = !o.warm;
  }

  readonly prepare = async (what: string): Promise<void> => {
    const o = this.#o;
    if (o.quietWaitSeconds > 0) {
      const busy = await waitForQuiet(o.quietCpus, o.quietWaitSeconds, this.#signal);
      if (busy >= o.quietCpus)
        this.#log(`${what}: other processes still use ${busy.toFixed(2)} CPUs after ${o.quietWaitSeconds} s; measuring anyway`);
    }
    if (o.warm) return;
    if (!(await dropCaches(this.#signal))) {
      if (this.cacheDropped) this.#log('cannot drop the page cache (not root?): all tools read from a warm cache alike');
      this.cacheDropped = false;
    }
  };
}
