// How the backup bench runs Convoy: the command lines of its two frontends (the library through
// backup-convoy-runner.ts, the convoy-backup CLI), each as a measured child process from the run's
// frozen copy of the sources, optionally under --cpu-prof.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, run, type Measured } from './backup-exec.js';
import type { SourceSnapshot } from './backup-snapshot.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
/** The pinned Node 24 (the machine's node is older). */
export const NODE = path.resolve(BENCH_DIR, '../../node_modules/.bin/node');

export type ConvoyFrontend = 'convoy' | 'convoy-cli';

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

/** The frontend's arguments for a backup (full: no parent; else incremental against the latest). */
export function backupArgs(frontend: ConvoyFrontend, b: BackupSpec): string[] {
  const changed = b.changed === undefined ? [] : ['--changed', b.changed];
  if (frontend === 'convoy-cli') {
    const dest = b.store.includes('://') ? b.store : `vfs://${b.store}`;
    return ['create', b.source, '--dest', dest, '--volume', b.volume, ...(b.full ? ['--parent', 'none'] : []), ...changed];
  }
  return ['backup', '--store', b.store, '--volume', b.volume, '--source', b.source, ...(b.full ? ['--full'] : []), ...changed];
}

/** The frontend's arguments to restore the backup `url` printed (the runner: the newest of `store`). */
export function restoreArgs(frontend: ConvoyFrontend, store: string, url: string, target: string): string[] {
  if (frontend === 'convoy-cli') return ['restore', url, target];
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

function nodeArgs(l: ConvoyLaunch, args: string[], profileDir: string | undefined): string[] {
  const prof = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
  const entry =
    l.frontend === 'convoy-cli'
      ? [l.src.cliMain, ...args, '--json', '--quiet']
      : [l.src.runner, ...args, ...(l.concurrency === undefined ? [] : ['--concurrency', String(l.concurrency)])];
  return [...prof, '--conditions=@convoy/source', '--import', l.src.sourceResolve, ...entry];
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
    env: { ...process.env, ...l.env },
    signal: l.signal,
  });
}

/** Starts a frontend once without measuring it; answers why it failed, or undefined. */
export async function smokeTest(l: ConvoyLaunch): Promise<string | undefined> {
  // Both import everything before they answer --help / help.
  const entry = l.frontend === 'convoy-cli' ? [l.src.cliMain, '--help'] : [l.src.runner, 'help'];
  try {
    const { code, stderr } = await run(NODE, ['--conditions=@convoy/source', '--import', l.src.sourceResolve, ...entry], {
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
 * What starting the frontend costs (Node, the TypeScript sources, the modules a run imports): its
 * `--help` under GNU time, so the S3 rows can say how much of a step's wall time is start-up.
 */
export function measureStartup(l: ConvoyLaunch): Promise<Measured> {
  const entry = l.frontend === 'convoy-cli' ? [l.src.cliMain, '--help'] : [l.src.runner, 'help'];
  return measure({
    label: `${l.frontend} start-up`,
    command: NODE,
    args: ['--conditions=@convoy/source', '--import', l.src.sourceResolve, ...entry],
    cwd: path.dirname(l.src.runner),
    signal: l.signal,
  });
}
