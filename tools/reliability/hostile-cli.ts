// Campaign 6b: hostile backup and store URLs through the CLIs — convoy-backup on its own, and
// convoy against the campaign's daemon. Each URL (seeded from the same pools as the socket fuzz)
// goes through every command that takes one; each run must exit 0 or fail with a `--json` error
// carrying a CONVOY_* code (never CONVOY_INTERNAL, a signal or a hang), and afterwards nothing
// outside the daemon's root, its vfs path and the store directory may have changed.
import { spawn } from 'node:child_process';
import fc from 'fast-check';
import fs, { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromSource } from './convoy.js';
import { nameArb, urlArb } from './hostile-pools.js';
import type { SocketFuzz } from './hostile-sockets.js';
import type { Trial } from './trial.js';

export type Tool = 'convoy-backup' | 'convoy';
const APP: Record<Tool, string> = { 'convoy-backup': 'backup', convoy: 'cli' };
const SOURCE_HOOK = fileURLToPath(new URL('../source-resolve.ts', import.meta.url));
const TIMEOUT_MS = 60_000;

export interface ToolResult {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** `error.code` of the `--json` error on stdout's last line, if any. */
  errorCode: string | undefined;
}

/** Runs `tool args` as an operator would (the build, or sources with CONVOY_RELIABILITY_CLI=source). */
export function runTool(tool: Tool, args: string[], env: Record<string, string>, cwd: string): Promise<ToolResult> {
  const app = fileURLToPath(new URL(`../../apps/${APP[tool]}/`, import.meta.url));
  if (!fromSource() && !existsSync(path.join(app, 'dist/main.js'))) {
    return Promise.reject(
      new Error(
        `${path.join(app, 'dist/main.js')} is missing: run \`npx nx run-many -t build\` first (or set CONVOY_RELIABILITY_CLI=source)`,
      ),
    );
  }
  const node = fromSource()
    ? ['--conditions=@convoy/source', '--import', SOURCE_HOOK, path.join(app, 'src/main.ts')]
    : [path.join(app, `bin/${tool}.cjs`)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...node, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      let errorCode: string | undefined;
      try {
        const last = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { error?: { code?: unknown } };
        if (typeof last.error?.code === 'string') errorCode = last.error.code;
      } catch {
        errorCode = undefined;
      }
      resolve({ args, code, signal, stdout, stderr, timedOut, errorCode });
    });
  });
}

/** Why a run is wrong, or undefined. */
export function judgeRun(r: ToolResult): string | undefined {
  if (r.timedOut) return 'no exit within the deadline';
  if (r.signal !== null) return `killed by ${r.signal}`;
  if (r.code === 0) return undefined;
  if (r.errorCode === undefined || !/^CONVOY_[A-Z0-9_]+$/.test(r.errorCode))
    return `exit ${r.code} without a --json error with a CONVOY_* code: ${(r.stdout + r.stderr).slice(-300)}`;
  if (r.errorCode === 'CONVOY_INTERNAL') return `CONVOY_INTERNAL: ${r.stdout.slice(-300)}`;
  return undefined;
}

const line = (tool: Tool, r: ToolResult): string =>
  `${tool} ${r.args.map((a) => JSON.stringify(a.length > 160 ? `${a.slice(0, 160)}…` : a)).join(' ')} → ${r.timedOut ? 'timed out' : (r.signal ?? `exit ${r.code}`)} ${r.errorCode ?? ''}`;

export class CliUrlFuzz {
  readonly #sockets: SocketFuzz;
  readonly #dir: string;

  constructor(sockets: SocketFuzz, dir: string) {
    this.#sockets = sockets;
    this.#dir = dir;
  }

  async run(trial: Trial, tool: Tool, seed: number, count: number): Promise<void> {
    fs.mkdirSync(this.#dir, { recursive: true });
    const places = this.#sockets.places;
    // argv cannot carry NUL: the OS refuses it before convoy sees it.
    const urls = fc
      .sample(urlArb(places, false), { seed, numRuns: count * 3 })
      .filter((u) => !u.includes('\u0000'))
      .slice(0, count);
    const dests = fc
      .sample(urlArb(places, true), { seed: seed + 1, numRuns: count * 3 })
      .filter((u) => !u.includes('\u0000'))
      .slice(0, count);
    const real = `vfs://${places.realStore}?backup=${places.backupId}&volume=${places.backupVolume}`;
    const source = path.join(this.#dir, 'source.img');
    fs.writeFileSync(source, Buffer.alloc(1024 * 1024, 7));
    const socket = ['--socket', this.#sockets.paths.controlSocket];
    const runs: string[][] = [];
    [real, ...urls].forEach((u, i) => {
      if (tool === 'convoy-backup') {
        // The real backup is deleted by the convoy run (after it restored from it), not here.
        runs.push(
          ['list', u, '--json'],
          ['inspect', u, '--json'],
          ['verify', u, '--json'],
          ['restore', u, path.join(this.#dir, `restored-${i}.img`), '--json'],
          ...(u === real ? [] : [['delete', u, '--json']]),
        );
      } else {
        runs.push(
          [...socket, 'backup', 'list', u, '--json'],
          [...socket, 'backup', 'inspect', u, '--json'],
          [...socket, 'create', `hzc-${i}`, '--backup', u, '--json'],
          [...socket, 'backup', 'delete', u, '--json'],
        );
      }
    });
    // Hostile volume, snapshot and label names (argv cannot carry NUL; a leading "-" would be an option).
    const names = fc
      .sample(nameArb(places), { seed: seed + 2, numRuns: count * 3 })
      .filter((n) => !n.includes('\u0000') && !n.startsWith('-'))
      .slice(0, count);
    names.forEach((n, i) => {
      if (tool === 'convoy-backup') {
        const names_ = `vfs://${places.stores}/names`;
        runs.push(
          ['create', source, '--dest', names_, '--volume', n, '--json'],
          ['create', source, '--dest', names_, '--volume', 'hz-names', '--snapshot', n, '--label', `${n}=${n}`, '--json'],
          ['list', names_, '--volume', n, '--json'],
        );
      } else {
        runs.push(
          [...socket, 'create', n, '--json'],
          [...socket, 'inspect', n, '--json'],
          [...socket, 'mount', n, '--json'],
          [...socket, 'umount', n, '--json'],
          [...socket, 'snapshot', 'create', n, '--name', `${n}${i}`, '--json'],
          [...socket, 'snapshot', 'inspect', n, '--json'],
          [...socket, 'snapshot', 'delete', n, '--json'],
          [...socket, 'delete', n, '--json'],
        );
      }
    });
    dests.forEach((d) => {
      runs.push(
        tool === 'convoy-backup'
          ? ['create', source, '--dest', d, '--volume', 'hz-cli', '--json']
          : [...socket, 'backup', 'create', 'hz-snap', '--dest', d, '--json'],
      );
    });
    trial.fault(
      `${urls.length + 1} backup URLs, ${dests.length} destinations and ${names.length} names through ${tool} (fast-check seed ${seed}): ${runs.length} runs`,
    );
    for (const args of runs) {
      const r = await runTool(tool, args, {}, this.#dir);
      trial.record.commands.push(line(tool, r));
      const key = `exit:${r.code ?? r.signal ?? '?'}${r.errorCode === undefined ? '' : ` ${r.errorCode}`}`;
      trial.measure(key, (trial.record.measures[key] ?? 0) + 1);
      const wrong = judgeRun(r);
      trial.check('every run exits 0 or fails with a CONVOY_* code', wrong === undefined, () => `${wrong ?? ''} — ${line(tool, r)}`);
    }
    trial.measure('runs', runs.length);
    const daemon = this.#sockets.daemon;
    trial.check('the daemon is still running', daemon?.exit === undefined, () => `daemon ended: ${daemon?.exit ?? 'never started'}`);
    trial.measure('crashes', daemon?.exit === undefined ? 0 : 1);
    this.#sockets.writesOutside(trial);
    trial.record.commands = trial.record.commands.slice(-40); // the report needs the last ones, not hundreds
  }
}
