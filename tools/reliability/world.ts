// A store under test and what the campaign knows it must hold: each volume's source and state, and
// every backup that completed with the sha256 of the state it was taken of. The "nothing lost"
// checks live here: verify --read-data is clean, the store lists exactly the backups that completed
// (those an interrupted create committed are adopted), and each of them restores bit-exact.
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runCli, startCli, type CliOptions, type CliResult, type CliRun } from './convoy.js';
import { runInProcess } from './judge-cli.js';
import { newTree, mutateTree, targetTreeHash, type DirShape } from './dir-volumes.js';
import { mutate, newImage, writeImage, sha256File, type ImageState } from './images.js';
import type { Rng } from './prng.js';
import type { StoreTarget } from './stores.js';
import type { Trial } from './trial.js';

export interface Backup {
  volume: string;
  id: string;
  url: string;
  state: ImageState;
}

export interface Volume {
  name: string;
  /** The source file (or directory, for a directory volume): always holds `state`. */
  source: string;
  /** Set for a directory volume (dir-volumes.ts): the shape of its tree. */
  dir?: DirShape;
  state: ImageState;
  /** Completed backups, oldest first (ids increase). */
  backups: Backup[];
}

export interface WorldOptions {
  store: StoreTarget;
  /** Scratch directory for sources and restores. */
  dir: string;
  leaseTtlMs: number | undefined;
  /** Deadline of any one convoy-backup run: past it the run is killed and counted as a hang. */
  timeoutMs: number;
  /** An encrypted store (`init --encrypt`): block keys are keyed hashes the model cannot predict. */
  encrypted?: boolean;
}

interface ListEntry {
  volume: string;
  id: string;
  url: string;
}

export class World {
  readonly store: StoreTarget;
  readonly dir: string;
  readonly volumes = new Map<string, Volume>();
  readonly options: WorldOptions;
  readonly #phantoms = new Set<string>();
  /** Which trial first wrote each block id into a source (for telling where a leaked block came from). */
  readonly #origin = new Map<string, string>();
  /** Set by a campaign as each trial starts. */
  note = 'set-up';
  /** Whether runs not under test (set-up, checks) spawn the bin, as in the final trial, or run in this process (judge-cli.ts). */
  asideByCli = false;

  constructor(options: WorldOptions) {
    [this.options, this.store, this.dir] = [options, options.store, options.dir];
  }

  cliOptions(extra: Partial<CliOptions> = {}): CliOptions {
    return { env: this.store.env, leaseTtlMs: this.options.leaseTtlMs, timeoutMs: this.options.timeoutMs, ...extra };
  }

  run(trial: Trial | undefined, args: string[], extra: Partial<CliOptions> = {}): Promise<CliResult> {
    return runCli(args, this.cliOptions(extra)).then((r) => trial?.ran(r) ?? r);
  }

  /** A run not under test (set-up, or a check): convoy-backup in this process, or the bin while `asideByCli`. */
  aside(trial: Trial | undefined, args: string[]): Promise<CliResult> {
    return (this.asideByCli ? runCli : runInProcess)(args, this.cliOptions()).then((r) => trial?.ran(r) ?? r);
  }

  start(args: string[], extra: Partial<CliOptions> = {}): CliRun {
    return startCli(args, this.cliOptions(extra));
  }

  backups(): Backup[] {
    return [...this.volumes.values()].flatMap((v) => v.backups);
  }

  volume(name: string): Volume {
    const v = this.volumes.get(name);
    if (v === undefined) throw new Error(`no volume ${name} in the model`);
    return v;
  }

  async addVolume(name: string, rng: Rng, regions: number): Promise<Volume> {
    await fs.mkdir(this.dir, { recursive: true });
    const v: Volume = { name, source: path.join(this.dir, `${name}.img`), state: newImage(rng, regions), backups: [] };
    await writeImage(v.source, v.state);
    this.volumes.set(name, v);
    return v;
  }

  /** A directory volume: a seeded tree (dir-volumes.ts) backed up as a directory. */
  async addDirVolume(name: string, rng: Rng, shape: DirShape, copyOf?: Volume): Promise<Volume> {
    const source = path.join(this.dir, name);
    let state: ImageState;
    if (copyOf === undefined) state = await newTree(source, rng, shape);
    else {
      // Another volume's tree with half its files changed: chunks the two share (cross-volume deduplication).
      await fs.cp(copyOf.source, source, { recursive: true, verbatimSymlinks: true });
      state = await mutateTree(source, rng, 0.5, shape);
    }
    const v: Volume = { name, source, dir: shape, state, backups: [] };
    this.volumes.set(name, v);
    return v;
  }

  /** Changes about `share` of a volume's content: regions of an image, files of a tree. */
  async change(volume: Volume, rng: Rng, share: number): Promise<void> {
    if (volume.dir === undefined) await this.setState(volume, mutate(rng, volume.state, share).state);
    else volume.state = await mutateTree(volume.source, rng, share, volume.dir);
  }

  /** The volumes of one kind: images (`dir` false) or directories. */
  ofKind(dir: boolean): Volume[] {
    return [...this.volumes.values()].filter((v) => (v.dir !== undefined) === dir);
  }

  /**
   * What `target` holds, to compare with the state `b` was taken of: a file's sha256, or for a
   * directory backup the tree's hash (dir-volumes.ts); 'absent' when there is nothing there.
   */
  targetHash(b: Backup, target: string): Promise<string> {
    return this.isDir(b) ? targetTreeHash(target) : sha256File(target).catch(() => 'absent');
  }

  /** Whether a backup is of a directory volume. */
  isDir(b: Backup): boolean {
    return this.volumes.get(b.volume)?.dir !== undefined;
  }

  async setState(volume: Volume, state: ImageState): Promise<void> {
    await writeImage(volume.source, state);
    volume.state = state;
    this.remember(state);
  }

  /** Notes the trial that first used each block id of `state`. */
  remember(state: ImageState): void {
    for (const id of state.blockIds) if (id !== null && !this.#origin.has(id)) this.#origin.set(id, this.note);
  }

  createArgs(volume: Volume, extra: string[] = [], source = volume.source): string[] {
    return ['create', source, '--dest', this.store.url, '--volume', volume.name, '--json', ...extra];
  }

  /** Adds a backup a create printed (its `--json` result) to the model, of `state`. */
  adopt(volume: Volume, result: CliResult, state: ImageState): Backup {
    const out = result.json as { id?: unknown; url?: unknown } | undefined;
    if (typeof out?.id !== 'string' || typeof out.url !== 'string')
      throw new Error(`create printed no backup: ${result.stdout.slice(-300)}`);
    const b: Backup = { volume: volume.name, id: out.id, url: out.url, state };
    volume.backups.push(b);
    volume.backups.sort((x, y) => (x.id < y.id ? -1 : 1));
    return b;
  }

  forget(b: Backup): void {
    const v = this.volume(b.volume);
    v.backups = v.backups.filter((x) => x.id !== b.id);
  }

  /** A backup that must succeed (set-up, not under test): throws if it does not. */
  async create(trial: Trial | undefined, volume: Volume, extra: string[] = []): Promise<Backup> {
    const r = await this.aside(trial, this.createArgs(volume, extra));
    if (r.code !== 0) throw new Error(`set-up backup failed: ${r.errorCode ?? r.code} ${r.errorMessage ?? r.stderr.slice(-300)}`);
    return this.adopt(volume, r, volume.state);
  }

  async delete(trial: Trial | undefined, b: Backup): Promise<void> {
    const r = await this.aside(trial, ['delete', b.url, '--json']);
    if (r.code !== 0) throw new Error(`set-up delete failed: ${r.errorCode ?? r.code} ${r.errorMessage ?? ''}`);
    this.forget(b);
  }

  /** verify --read-data: exit 0 and no problems. Answers the problems' keys. */
  async verifyClean(trial: Trial, readData = true): Promise<string[]> {
    const r = await this.aside(trial, ['verify', this.store.url, '--json', ...(readData ? ['--read-data'] : [])]);
    const out = r.json as { ok?: boolean; problems?: { key: string; kind: string }[] } | undefined;
    const problems = out?.problems ?? [];
    trial.check(
      readData ? 'verify --read-data clean' : 'verify clean',
      r.code === 0 && out?.ok === true && problems.length === 0,
      () => `exit ${r.code} ${r.errorCode ?? ''} problems: ${problems.map((p) => `${p.kind} ${p.key}`).join(', ') || r.stderr.slice(-300)}`,
    );
    return problems.map((p) => p.key);
  }

  async list(trial: Trial): Promise<ListEntry[] | undefined> {
    const r = await this.aside(trial, ['list', this.store.url, '--json']);
    if (
      !trial.check('list works', r.code === 0 && Array.isArray(r.json), () => `exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? ''}`)
    )
      return undefined;
    return r.json as ListEntry[];
  }

  /**
   * The store lists every backup the model holds. `mayBeGone`: a backup an interrupted delete may
   * have removed (then dropped from the model). `mayBeNew`: an interrupted create of that volume and
   * state may have committed (then adopted). Anything else missing is a lost backup, anything else
   * new a phantom.
   */
  async reconcile(
    trial: Trial,
    expect: { mayBeGone?: Backup; mayBeNew?: { volume: Volume; state: ImageState } } = {},
  ): Promise<{ gone: boolean; adopted: Backup | undefined }> {
    const listed = await this.list(trial);
    if (listed === undefined) return { gone: false, adopted: undefined };
    const seen = new Set(listed.map((e) => `${e.volume}/${e.id}`));
    let gone = false;
    for (const b of this.backups()) {
      if (seen.has(`${b.volume}/${b.id}`)) continue;
      if (expect.mayBeGone?.id === b.id && expect.mayBeGone.volume === b.volume) {
        gone = true;
        this.forget(b);
        continue;
      }
      trial.check('no completed backup lost', false, `backup ${b.volume}/${b.id} completed but the store no longer lists it`);
      this.forget(b); // reported once, not by every later trial
    }
    const known = new Set([...this.backups().map((b) => `${b.volume}/${b.id}`), ...this.#phantoms]);
    if (expect.mayBeGone !== undefined && gone) known.add(`${expect.mayBeGone.volume}/${expect.mayBeGone.id}`);
    let adopted: Backup | undefined;
    for (const e of listed) {
      if (known.has(`${e.volume}/${e.id}`)) continue;
      if (expect.mayBeNew !== undefined && adopted === undefined && e.volume === expect.mayBeNew.volume.name) {
        adopted = { volume: e.volume, id: e.id, url: e.url, state: expect.mayBeNew.state };
        expect.mayBeNew.volume.backups.push(adopted);
        expect.mayBeNew.volume.backups.sort((x, y) => (x.id < y.id ? -1 : 1));
        continue;
      }
      trial.check('no phantom backup', false, `the store lists ${e.volume}/${e.id}, which no operation completed`);
      this.#phantoms.add(`${e.volume}/${e.id}`); // reported once
    }
    trial.check(
      'store lists every completed backup',
      !trial.record.failures.some((f) => f.startsWith('no completed backup lost') || f.startsWith('no phantom backup')),
    );
    return { gone, adopted };
  }

  /**
   * `maintenance --full --grace 0s`, run again (a second apart) while its sweep was postponed by a
   * live restore lease: a killed restore's lease postpones sweeps until it expires (restores write no markers).
   */
  async fullMaintenance(trial: Trial): Promise<CliResult> {
    const deadline = performance.now() + (this.options.leaseTtlMs ?? 150_000) + 15_000;
    for (;;) {
      const r = await this.aside(trial, ['maintenance', this.store.url, '--full', '--grace', '0s', '--json']);
      const postponed = (r.json as { sweep?: { postponed?: string } } | undefined)?.sweep?.postponed;
      if (r.code !== 0 || postponed === undefined || performance.now() > deadline) return r;
      trial.measure('sweepsPostponedByRestoreLeases', (trial.record.measures.sweepsPostponedByRestoreLeases ?? 0) + 1);
      await sleep(1000);
    }
  }

  /** The trial that first wrote block `id` into a source (for telling where a leaked block came from). */
  origin(id: string): string {
    return this.#origin.get(id) ?? 'unknown';
  }

  /** Restores each backup to a scratch file (two at a time) and compares its sha256 with the state it was taken of. */
  async restoreAll(trial: Trial, backups: readonly Backup[] = this.backups()): Promise<void> {
    const queue = [...backups];
    const worker = async (lane: number): Promise<void> => {
      for (let b = queue.shift(); b !== undefined; b = queue.shift())
        await this.restoreExact(trial, b, path.join(this.dir, this.isDir(b) ? `check-${lane}` : `check-${lane}.img`));
    };
    await Promise.all([worker(0), worker(1)]);
  }

  /** One restore that must succeed bit-exact. */
  async restoreExact(trial: Trial, b: Backup, target: string): Promise<boolean> {
    const dir = this.isDir(b);
    if (dir) await fs.rm(target, { recursive: true, force: true }); // a directory restore needs an empty or new target
    const r = await this.aside(trial, ['restore', b.url, target, '--json']);
    let ok = r.code === 0;
    let why = `exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? ''}`;
    if (ok) {
      const sha = await this.targetHash(b, target);
      ok = sha === b.state.sha256;
      why = `restored sha256 ${sha.slice(0, 12)}… but the source state was ${b.state.sha256.slice(0, 12)}…`;
    }
    await fs.rm(target, { recursive: dir, force: true });
    if (!ok) this.forget(b); // reported once, not by every later trial
    return trial.check('completed backup restores bit-exact', ok, `${b.volume}/${b.id}: ${why}`);
  }
}
