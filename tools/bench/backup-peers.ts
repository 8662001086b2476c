// The three tools the backup benchmark compares, each behind the same few steps: full backup,
// incremental backup, restore. Every step is one child process measured by backup-exec.ts.
import { cp, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  backupArgs,
  backupUrlOf,
  measureConvoy,
  prepareStore,
  restoreArgs,
  type ConvoyFrontend,
  type ConvoyLaunch,
} from './backup-convoy.js';
import { duBytes, measure, setup, type Measured } from './backup-exec.js';
import type { SourceSnapshot } from './backup-snapshot.js';

export type { ConvoyFrontend } from './backup-convoy.js';

export const TOOL_NAMES = ['convoy', 'convoy-cli', 'convoy-cli-enc', 'borg', 'restic'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];
/**
 * The ways Convoy is run: the library through backup-convoy-runner.ts, the convoy-backup CLI, and
 * the CLI on encrypted stores (`init --encrypt`).
 */
export const CONVOY_TOOLS: readonly ConvoyFrontend[] = ['convoy', 'convoy-cli', 'convoy-cli-enc'];

export const isConvoy = (tool: ToolName): tool is ConvoyFrontend => (CONVOY_TOOLS as readonly ToolName[]).includes(tool);

/**
 * full: first backup. incremental: after the change, re-reading the whole volume (borg, restic;
 * Convoy without a change list). incremental-changed: Convoy with the changed-extent list.
 * restore: the newest backup into a new file.
 */
export type StepId = 'full' | 'incremental-changed' | 'incremental' | 'restore';

export interface StepResult extends Measured {
  tool: ToolName;
  step: StepId;
  /** `du -sb` of the tool's repository after the step. */
  storedBytes: number;
  /** `du -sb` of local state kept outside the repository (borg's and restic's caches). */
  localStateBytes: number;
  /** The file a restore wrote. */
  restored?: string;
}

export interface PeerContext {
  /** The run's scratch directory; each tool works in a subdirectory. */
  work: string;
  /** The volume file, `volume.img` in `dataDir`. */
  volumeFile: string;
  /** The changed-extent list, JSON [[offset, length], …], once the volume was changed. */
  changedFile: string;
  /** The frozen copy of Convoy's sources every Convoy step runs from. */
  convoy: SourceSnapshot;
  /** Convoy's blocks processed concurrently (library default when undefined). */
  convoyConcurrency: number | undefined;
  /** Convoy steps write V8 CPU profiles under this directory (backup.ts --profile). */
  profileDir: string | undefined;
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface Peer {
  readonly name: ToolName;
  /** The steps this tool runs for the incremental phase, in order. */
  readonly incrementalSteps: readonly StepId[];
  init(): Promise<void>;
  step(step: Exclude<StepId, 'restore'>): Promise<StepResult>;
  /** Restores the newest backup into a new file under `targetDir`. */
  restore(targetDir: string): Promise<StepResult>;
}

/**
 * Convoy, either through @convoy/blockstore (backup-convoy-runner.ts: `convoy`) or through the
 * convoy-backup CLI (apps/backup/src/main.ts: `convoy-cli`, and `convoy-cli-enc` on a store created
 * encrypted by init), all from the run's frozen copy of the sources: the library from the TypeScript,
 * the CLI as the bundle its build makes (backup-convoy.ts).
 * The full backup goes into store A; A is then copied to B (not timed), so the incremental with
 * the change list (into A) and the one without (into B) each start from the same full backup and
 * each upload what is new.
 */
export class ConvoyPeer implements Peer {
  readonly name: ConvoyFrontend;
  readonly incrementalSteps = ['incremental-changed', 'incremental'] as const;
  readonly #ctx: PeerContext;
  readonly #launch: ConvoyLaunch;
  readonly #storeA: string;
  readonly #storeB: string;
  /** Newest backup URL per store (the CLI restores a backup URL). */
  readonly #latest = new Map<string, string>();

  constructor(ctx: PeerContext, frontend: ConvoyFrontend) {
    this.#ctx = ctx;
    this.name = frontend;
    this.#launch = { src: ctx.convoy, frontend, concurrency: ctx.convoyConcurrency, profileDir: ctx.profileDir, signal: ctx.signal };
    this.#storeA = path.join(ctx.work, this.name, 'store-changed');
    this.#storeB = path.join(ctx.work, this.name, 'store-rehash');
  }

  async init(): Promise<void> {
    await mkdir(path.dirname(this.#storeA), { recursive: true });
    await prepareStore(this.#launch, this.#storeA); // store B is a copy of A after the full backup
  }

  async step(step: Exclude<StepId, 'restore'>): Promise<StepResult> {
    const store = step === 'incremental' ? this.#storeB : this.#storeA;
    const args = backupArgs(this.name, {
      store,
      source: this.#ctx.volumeFile,
      volume: 'bench',
      full: step === 'full',
      ...(step === 'incremental-changed' ? { changed: this.#ctx.changedFile } : {}),
    });
    const result = await this.#run(step, args, store);
    const url = backupUrlOf(result.stdout, `${this.name} ${step}`);
    this.#latest.set(store, url);
    if (step === 'full') {
      await cp(this.#storeA, this.#storeB, { recursive: true, preserveTimestamps: true });
      this.#latest.set(this.#storeB, url.replace(`vfs://${this.#storeA}?`, `vfs://${this.#storeB}?`));
    }
    return result;
  }

  async restore(targetDir: string): Promise<StepResult> {
    return this.#restore(this.#storeA, targetDir);
  }

  /** Restores store B's newest backup too (not in the table): the no-change-list backup must be right as well. */
  async restoreRehashed(targetDir: string): Promise<StepResult> {
    return this.#restore(this.#storeB, targetDir, 'restore-rehashed');
  }

  async #restore(store: string, targetDir: string, label = 'restore'): Promise<StepResult> {
    const target = path.join(targetDir, 'volume.img');
    const url = this.#latest.get(store);
    if (url === undefined) throw new Error(`${this.name}: no backup in ${store} to restore`);
    return { ...(await this.#run('restore', restoreArgs(this.name, store, url, target), store, label)), restored: target };
  }

  async #run(step: StepId, args: string[], store: string, label: string = step): Promise<StepResult> {
    const measured = await measureConvoy(this.#launch, `${this.name} ${label}`, args);
    return { ...measured, tool: this.name, step, storedBytes: await duBytes(store, this.#ctx.signal), localStateBytes: 0 };
  }
}

/**
 * borg and restic alike: a repository and a directory of local state (borg's base dir, restic's
 * cache) in the run's scratch directory, and each step one measured process of the tool.
 */
class RepositoryPeer {
  readonly name: 'borg' | 'restic';
  readonly incrementalSteps = ['incremental'] as const;
  protected readonly ctx: PeerContext;
  protected readonly repo: string;
  /** Local state kept outside the repository. */
  protected readonly local: string;
  protected readonly env: NodeJS.ProcessEnv;
  readonly #initArgs: string[];

  constructor(
    name: 'borg' | 'restic',
    ctx: PeerContext,
    local: string,
    env: (repo: string, local: string) => NodeJS.ProcessEnv,
    initArgs: (repo: string) => string[],
  ) {
    this.name = name;
    this.ctx = ctx;
    this.repo = path.join(ctx.work, name, 'repo');
    this.local = path.join(ctx.work, name, local);
    this.env = env(this.repo, this.local);
    this.#initArgs = initArgs(this.repo);
  }

  async init(): Promise<void> {
    await mkdir(this.local, { recursive: true });
    await setup(`${this.name} init`, this.name, this.#initArgs, { env: this.env, signal: this.ctx.signal });
  }

  protected async run(step: StepId, args: string[], cwd: string): Promise<StepResult> {
    const measured = await measure({
      label: `${this.name} ${step}`,
      command: this.name,
      args,
      cwd,
      env: this.env,
      signal: this.ctx.signal,
    });
    return {
      ...measured,
      tool: this.name,
      step,
      storedBytes: await duBytes(this.repo, this.ctx.signal),
      localStateBytes: await duBytes(this.local, this.ctx.signal),
    };
  }
}

/** borg 1.2: unencrypted repository, lz4, default chunker (buzhash, ~2 MiB average chunks). */
export class BorgPeer extends RepositoryPeer implements Peer {
  constructor(ctx: PeerContext) {
    super(
      'borg',
      ctx,
      'home',
      (_repo, home) => ({
        ...process.env,
        BORG_BASE_DIR: home, // cache, config, security dirs: in the run's scratch dir, not ~
        BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
        BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
      }),
      (repo) => ['init', '--encryption', 'none', repo],
    );
  }

  async step(step: Exclude<StepId, 'restore'>): Promise<StepResult> {
    // Run in the volume's directory so the archive holds the relative path `volume.img`.
    const archive = step === 'full' ? 'full' : 'incremental';
    return this.run(
      step,
      ['create', '--compression', 'lz4', `${this.repo}::${archive}`, path.basename(this.ctx.volumeFile)],
      path.dirname(this.ctx.volumeFile),
    );
  }

  async restore(targetDir: string): Promise<StepResult> {
    // --sparse: zero chunks become holes, as Convoy's restore leaves zero blocks as holes.
    const result = await this.run('restore', ['extract', '--sparse', `${this.repo}::incremental`], targetDir);
    return { ...result, restored: path.join(targetDir, path.basename(this.ctx.volumeFile)) };
  }
}

/** restic 0.14: repository format 2 (compression auto = zstd fastest), always encrypted. */
export class ResticPeer extends RepositoryPeer implements Peer {
  constructor(ctx: PeerContext) {
    super(
      'restic',
      ctx,
      'cache',
      (repo, cache) => ({ ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: repo, RESTIC_CACHE_DIR: cache }),
      () => ['init', '--repository-version', '2'],
    );
  }

  async step(step: Exclude<StepId, 'restore'>): Promise<StepResult> {
    // restic finds the parent snapshot itself (same host and paths) and re-reads changed files.
    return this.run(
      step,
      ['backup', '--quiet', '--compression', 'auto', path.basename(this.ctx.volumeFile)],
      path.dirname(this.ctx.volumeFile),
    );
  }

  async restore(targetDir: string): Promise<StepResult> {
    // Backed up by a relative path, the file comes back as `volume.img` below the target (restic
    // 0.14 has no sparse restore: it writes the zero regions too).
    const result = await this.run('restore', ['restore', 'latest', '--target', targetDir], targetDir);
    return { ...result, restored: path.join(targetDir, path.basename(this.ctx.volumeFile)) };
  }
}

export function makePeer(name: ToolName, ctx: PeerContext): Peer {
  switch (name) {
    case 'convoy':
    case 'convoy-cli':
    case 'convoy-cli-enc':
      return new ConvoyPeer(ctx, name);
    case 'borg':
      return new BorgPeer(ctx);
    case 'restic':
      return new ResticPeer(ctx);
  }
}

/** Removes a restored file once it was checked (three 1 GiB restores need not sit on disk). */
export async function discard(file: string): Promise<void> {
  await rm(file, { force: true });
}
