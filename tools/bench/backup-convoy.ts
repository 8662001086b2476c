// How the backup bench runs Convoy: the command lines of its frontends (the library through
// backup-convoy-runner.ts, from the run's frozen copy of the sources; the convoy-backup CLI, on
// plain stores and on stores created with `init --encrypt`, as the bundle users run, built from
// that copy), each as a measured child process, optionally under --cpu-prof.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, run, setup, type Measured } from './backup-exec.js';
import type { SourceSnapshot } from './backup-snapshot.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
/** The pinned Node 24 (the machine's node is older). */
export const NODE = path.resolve(BENCH_DIR, '../../node_modules/.bin/node');

/**
 * convoy: the library through backup-convoy-runner.ts. convoy-cli: the convoy-backup CLI.
 * convoy-cli-enc: the same CLI on stores created (untimed) with `convoy-backup init STORE --encrypt`,
 * with CONVOY_PASSWORD in the environment of every step.
 */
export type ConvoyFrontend = 'convoy' | 'convoy-cli' | 'convoy-cli-enc';

/** The frontends that run the convoy-backup CLI (same command lines). */
export const isCli = (f: ConvoyFrontend): boolean => f !== 'convoy';
/** The frontends whose stores are encrypted. */
export const isEncrypted = (f: ConvoyFrontend): boolean => f === 'convoy-cli-enc';
/** The passphrase of the bench's encrypted stores (CONVOY_PASSWORD of every step of theirs). */
export const BENCH_PASSWORD = 'convoy-bench-passphrase';

export interface ConvoyLaunch {
  src: SourceSnapshot;
  frontend: ConvoyFrontend;
  /** Blocks in flight (and an S3 store's requests in flight); the runner only, the CLI has no such flag. */
  concurrency: number | undefined;
  /** Extra environment (S3 endpoint and credentials). */
  env?: NodeJS.ProcessEnv;
  /** When set, each process writes a V8 CPU profile into `<profileDir>/<label>/` (--cpu-prof). */
  profileDir: string | undefined;
  signal: AbortSignal;
}

export interface BackupSpec {
  /** A directory (vfs) or a store URL (s3://bucket/prefix). */
  store: string;
  source: string;
  volume: string;
  full: boolean;
  changed?: string;
}

/** The CLI's URL of a store: a directory as vfs://, a URL as it is. */
const destOf = (store: string): string => (store.includes('://') ? store : `vfs://${store}`);

/** The frontend's arguments for a backup (full: no parent; else incremental against the latest). */
export function backupArgs(frontend: ConvoyFrontend, b: BackupSpec): string[] {
  const changed = b.changed === undefined ? [] : ['--changed', b.changed];
  if (isCli(frontend)) {
    return ['create', b.source, '--dest', destOf(b.store), '--volume', b.volume, ...(b.full ? ['--parent', 'none'] : []), ...changed];
  }
  return ['backup', '--store', b.store, '--volume', b.volume, '--source', b.source, ...(b.full ? ['--full'] : []), ...changed];
}

/** The frontend's arguments to restore the backup `url` printed (the runner: the newest of `store`). */
export function restoreArgs(frontend: ConvoyFrontend, store: string, url: string, target: string): string[] {
  if (isCli(frontend)) return ['restore', url, target];
  const volume = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('volume') ?? 'bench';
  return ['restore', '--store', store, '--volume', volume, '--target', target];
}

/** The backup URL from a backup's stdout (both frontends print a JSON line with `url` last). */
export function backupUrlOf(stdout: string, label: string): string {
  let url: unknown;
  try {
    url = (JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { url?: unknown }).url;
  } catch {
    url = undefined;
  }
  if (typeof url !== 'string') throw new Error(`${label} printed no backup URL: ${stdout.slice(-500)}`);
  return url;
}

/** The environment of every process of the frontend: the bench's, the launch's extra, the passphrase of an encrypted store. */
function envOf(l: ConvoyLaunch): NodeJS.ProcessEnv {
  return { ...process.env, ...l.env, ...(isEncrypted(l.frontend) ? { CONVOY_PASSWORD: BENCH_PASSWORD } : {}) };
}

/**
 * Creates the frontend's store before its first (measured) backup, untimed: `convoy-backup init
 * STORE --encrypt` for an encrypted frontend (the other frontends create theirs on the first backup).
 */
export async function prepareStore(l: ConvoyLaunch, store: string): Promise<void> {
  if (!isEncrypted(l.frontend)) return;
  await setup(`${l.frontend} init`, NODE, entryArgs(l, ['init', destOf(store), '--encrypt', '--json', '--quiet']), {
    cwd: path.dirname(l.src.runner),
    env: envOf(l),
    signal: l.signal,
  });
}

/**
 * Node's arguments for one run of the frontend: the CLI's bundle (built from the frozen sources,
 * as a build makes it: what users run, and what starts in ~0.3 s instead of ~0.65 s from sources),
 * or the library runner from the frozen TypeScript sources.
 */
function entryArgs(l: ConvoyLaunch, args: string[]): string[] {
  if (isCli(l.frontend)) return [l.src.cliBundle, ...args];
  return ['--conditions=@convoy/source', '--import', l.src.sourceResolve, l.src.runner, ...args];
}

function nodeArgs(l: ConvoyLaunch, args: string[], profileDir: string | undefined): string[] {
  const prof = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
  const extra = isCli(l.frontend) ? ['--json', '--quiet'] : l.concurrency === undefined ? [] : ['--concurrency', String(l.concurrency)];
  return [...prof, ...entryArgs(l, [...args, ...extra])];
}

/** Runs one Convoy command under GNU time (see backup-exec.ts); `label` names it (and its profile directory). */
export async function measureConvoy(l: ConvoyLaunch, label: string, args: string[]): Promise<Measured> {
  let profileDir: string | undefined;
  if (l.profileDir !== undefined) {
    profileDir = path.join(l.profileDir, label.replace(/[^a-zA-Z0-9.-]+/g, '-'));
    await mkdir(profileDir, { recursive: true });
  }
  return measure({
    label,
    command: NODE,
    args: nodeArgs(l, args, profileDir),
    cwd: path.dirname(l.src.runner),
    env: envOf(l),
    signal: l.signal,
  });
}

/** Starts a frontend once without measuring it; answers why it failed, or undefined. */
export async function smokeTest(l: ConvoyLaunch): Promise<string | undefined> {
  // Both import everything before they answer --help / help.
  try {
    const { code, stderr } = await run(NODE, entryArgs(l, [isCli(l.frontend) ? '--help' : 'help']), {
      cwd: path.dirname(l.src.runner),
      signal: l.signal,
    });
    if (code === 0) return undefined;
    return stderr.trim().split('\n').slice(0, 3).join(' / ');
  } catch (err) {
    return String(err);
  }
}

/**
 * What starting the frontend costs (Node, the bundle or the TypeScript sources, the modules a run imports): its
 * `--help` under GNU time, so the S3 rows can say how much of a step's wall time is start-up.
 */
export function measureStartup(l: ConvoyLaunch): Promise<Measured> {
  return measure({
    label: `${l.frontend} start-up`,
    command: NODE,
    args: entryArgs(l, [isCli(l.frontend) ? '--help' : 'help']),
    cwd: path.dirname(l.src.runner),
    signal: l.signal,
  });
}
