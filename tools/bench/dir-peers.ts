// The three tools the directory benchmark compares, each behind the same steps: backup (full,
// then incremental), restore of everything, restore of one file. Every step is one child process
// measured by backup-exec.ts (GNU time: wall time, peak RSS).
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { duBytes, measure, setup, type Measured } from './backup-exec.js';

export const DIR_TOOLS = ['convoy', 'borg', 'restic'] as const;
export type DirTool = (typeof DIR_TOOLS)[number];
export type DirStep = 'full' | 'incremental' | 'restore' | 'restore-one';

export interface DirStepResult extends Measured {
  tool: DirTool;
  step: DirStep;
  /** Repository bytes (du -sb) and files after the step. */
  repoBytes: number;
  repoObjects: number;
  /** Where the restored tree's root (or the restored file) is. */
  restored?: string;
}

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');

export async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}

export interface DirPeer {
  readonly name: DirTool;
  init(): Promise<void>;
  backup(step: 'full' | 'incremental'): Promise<DirStepResult>;
  /** Restores everything (or one file, relative to the tree) into `target` (a new directory). */
  restore(target: string, one?: string): Promise<DirStepResult>;
}

abstract class Base implements DirPeer {
  abstract readonly name: DirTool;
  protected readonly tree: string;
  protected readonly repo: string;
  protected readonly signal: AbortSignal;
  constructor(tree: string, repo: string, signal: AbortSignal) {
    this.tree = tree;
    this.repo = repo;
    this.signal = signal;
  }
  abstract init(): Promise<void>;
  abstract backup(step: 'full' | 'incremental'): Promise<DirStepResult>;
  abstract restore(target: string, one?: string): Promise<DirStepResult>;
  protected async run(step: DirStep, command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<DirStepResult> {
    const m = await measure({ label: `${this.name} ${step}`, command, args, cwd, env, signal: this.signal });
    return { ...m, tool: this.name, step, repoBytes: await duBytes(this.repo, this.signal), repoObjects: await countFiles(this.repo) };
  }
}

/** convoy-backup (apps/backup) from this checkout's sources, or its build (dist/), into a vfs:// store. */
export class ConvoyDirPeer extends Base {
  readonly name = 'convoy';
  #url = '';
  built = false;
  async init(): Promise<void> {
    await mkdir(this.repo, { recursive: true });
  }
  #cli(args: string[]): string[] {
    if (this.built) return [path.join(ROOT, 'apps/backup/bin/convoy-backup.cjs'), ...args, '--json', '--quiet'];
    return [
      '--conditions=@convoy/source',
      '--import',
      path.join(ROOT, 'tools/source-resolve.ts'),
      path.join(ROOT, 'apps/backup/src/main.ts'),
      ...args,
      '--json',
      '--quiet',
    ];
  }
  async backup(step: 'full' | 'incremental'): Promise<DirStepResult> {
    const r = await this.run(step, NODE, this.#cli(['create', this.tree, '--dest', `vfs://${this.repo}`, '--volume', 'bench']), ROOT);
    this.#url = (JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { url: string }).url;
    return r;
  }
  async restore(target: string, one?: string): Promise<DirStepResult> {
    const r = await this.run(
      one === undefined ? 'restore' : 'restore-one',
      NODE,
      this.#cli(['restore', this.#url, target, ...(one === undefined ? [] : ['--path', one])]),
      ROOT,
    );
    return { ...r, restored: target };
  }
}

/** borg 1.2: unencrypted repository, lz4, its default chunker. */
export class BorgDirPeer extends Base {
  readonly name = 'borg';
  #env: NodeJS.ProcessEnv = {};
  async init(): Promise<void> {
    const home = `${this.repo}-home`;
    await mkdir(home, { recursive: true });
    this.#env = {
      ...process.env,
      BORG_BASE_DIR: home,
      BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
      BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
    };
    await setup('borg init', 'borg', ['init', '--encryption', 'none', this.repo], { env: this.#env, signal: this.signal });
  }
  async backup(step: 'full' | 'incremental'): Promise<DirStepResult> {
    return this.run(step, 'borg', ['create', '--compression', 'lz4', `${this.repo}::${step}`, '.'], this.tree, this.#env);
  }
  async restore(target: string, one?: string): Promise<DirStepResult> {
    await mkdir(target, { recursive: true });
    const r = await this.run(
      one === undefined ? 'restore' : 'restore-one',
      'borg',
      ['extract', '--sparse', `${this.repo}::incremental`, ...(one === undefined ? [] : [one])],
      target,
      this.#env,
    );
    return { ...r, restored: target };
  }
}

/** restic 0.14: repository format 2 (zstd auto), always encrypted. */
export class ResticDirPeer extends Base {
  readonly name = 'restic';
  #env: NodeJS.ProcessEnv = {};
  async init(): Promise<void> {
    const cache = `${this.repo}-cache`;
    await mkdir(cache, { recursive: true });
    this.#env = { ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: this.repo, RESTIC_CACHE_DIR: cache };
    await setup('restic init', 'restic', ['init', '--repository-version', '2'], { env: this.#env, signal: this.signal });
  }
  async backup(step: 'full' | 'incremental'): Promise<DirStepResult> {
    return this.run(step, 'restic', ['backup', '--quiet', '--compression', 'auto', this.tree], this.tree, this.#env);
  }
  async restore(target: string, one?: string): Promise<DirStepResult> {
    const include = one === undefined ? [] : ['--include', path.join(this.tree, one)];
    const r = await this.run(
      one === undefined ? 'restore' : 'restore-one',
      'restic',
      ['restore', 'latest', '--target', target, ...include],
      this.tree,
      this.#env,
    );
    return { ...r, restored: path.join(target, this.tree) }; // restic restores the absolute path below the target
  }
}

export function makeDirPeer(name: DirTool, tree: string, work: string, signal: AbortSignal, built = false): DirPeer {
  const repo = path.join(work, name, 'repo');
  if (name === 'convoy') {
    const p = new ConvoyDirPeer(tree, repo, signal);
    p.built = built;
    return p;
  }
  if (name === 'borg') return new BorgDirPeer(tree, repo, signal);
  return new ResticDirPeer(tree, repo, signal);
}
