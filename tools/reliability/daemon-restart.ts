// Campaign 5: kill -9 of convoy-daemon (vfs driver) mid-create, mid-restore (`create --backup`),
// mid-snapshot, mid-backup and mid-delete, at a seeded step of the operation (daemon-kill-hook.ts:
// every filesystem change and program start is a step, so the kills land on every durable state
// the operation passes through), then a restart. After each: the daemon starts; the base path is
// consistent (vfs-layout.ts: no orphan directory, no record pointing at nothing, nothing this host
// began left "creating"); every volume, snapshot and backup that completed is there with its exact
// content; the interrupted one is absent or complete (never half), and running it again succeeds;
// `convoy-backup verify --read-data` of the backup store is clean.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DaemonApi } from './daemon-api.js';
import { checkConsistent, checkIntact, verifyStore } from './daemon-checks.js';
import { EMPTY, EMPTY_HASH, judgeBackup, judgeDelete, judgeSnapshot, judgeVolume } from './daemon-judge.js';
import { judgeMount } from './daemon-mounts.js';
import { DaemonProcess } from './daemon-process.js';
import type { Size } from './config.js';
import type { Rng } from './prng.js';
import { Trial } from './trial.js';
import { treeHash, writeTree } from './tree.js';
import type { Reply } from './unix-http.js';

export const DAEMON_OPS = ['create', 'restore', 'snapshot', 'backup', 'delete', 'mount', 'unmount'] as const;
export type DaemonOp = (typeof DAEMON_OPS)[number];

export interface DaemonTrialSpec {
  n: number;
  op: DaemonOp;
}

export function planDaemon(rng: Rng, size: Size): DaemonTrialSpec[] {
  const out: DaemonTrialSpec[] = [];
  for (let i = 0; i < size.daemon.trialsPerOp; i++) for (const op of rng.shuffle(DAEMON_OPS)) out.push({ n: out.length + 1, op });
  return out;
}

const HOST = 'rel-a';

export class DaemonRestartCampaign {
  readonly dir: string;
  readonly size: Size;
  readonly resultsFile: string;
  readonly daemon: DaemonProcess;
  readonly api: DaemonApi;
  readonly vfsPath: string;
  readonly storeUrl: string;
  /** What must be there: volume → tree hash, snapshot → {volume, hash}, backup URL → hash. */
  readonly volumes = new Map<string, string>();
  readonly snapshots = new Map<string, { volume: string; hash: string }>();
  readonly backups = new Map<string, string>();
  /** Steps of each operation run uninterrupted (from the set-up's traced runs). */
  readonly steps = new Map<DaemonOp, number>();
  /** Steps of a start (its recovery), traced in the set-up. */
  startSteps = 0;
  /** Which of those steps start a program (cp, tar, sync). */
  readonly spawnSteps = new Map<DaemonOp, number[]>();
  #trial: Trial | undefined;
  #scratch = 0;
  /** Layout problems already reported (each fails only the trial that caused it). */
  readonly reported = new Set<string>();

  constructor(dir: string, size: Size, resultsFile: string) {
    this.dir = dir;
    this.size = size;
    this.resultsFile = resultsFile;
    this.vfsPath = path.join(dir, 'vfs');
    this.storeUrl = `vfs://${path.join(dir, 'backups')}`;
    this.daemon = new DaemonProcess({
      label: HOST,
      dir,
      root: path.join(dir, 'root'),
      vfsPath: this.vfsPath,
      hostId: HOST,
      leaseTtlMs: size.leaseTtlMs,
      startTimeoutMs: 60_000,
    });
    this.api = new DaemonApi(this.daemon, () => this.#trial);
  }

  /** Starts the daemon; makes `base` with files, a snapshot and a backup; traces each operation once. */
  async setup(rng: Rng): Promise<void> {
    await this.daemon.start();
    await this.must(this.api.createVolume('base'));
    await this.fill('base', rng);
    await this.#snapshotOf('base', 'base-s0');
    const url = await this.#backupOf('base-s0');
    // one traced run of each operation: how many steps it takes
    const trace = async (op: DaemonOp, run: () => Promise<Reply>): Promise<Reply> => {
      await this.daemon.arm({ step: null });
      const r = await this.must(run());
      this.steps.set(op, this.daemon.steps.length);
      this.spawnSteps.set(
        op,
        this.daemon.steps.flatMap((line, i) => (/^step \d+ spawn /.test(line) ? [i + 1] : [])),
      );
      return r;
    };
    await trace('create', () => this.api.createVolume('probe-c'));
    await trace('restore', () => this.api.createVolume('probe-r', url));
    await trace('snapshot', () => this.api.snapshot('base', 'probe-s'));
    const probe = await this.api.snapshotInfo('probe-s');
    this.snapshots.set('probe-s', {
      volume: 'base',
      hash: (await treeHash(path.join(this.vfsPath, 'snapshots', String(probe?.uuid)))) ?? '',
    });
    const traced = await trace('backup', () => this.api.backup('probe-s', this.storeUrl));
    this.backups.set(String((traced.json as { url: string }).url), this.snapshots.get('probe-s')?.hash ?? '');
    await this.must(this.api.snapshot('probe-c', 'probe-c-s'));
    await trace('delete', () => this.api.deleteVolume('probe-c'));
    await this.must(this.api.createVolume('probe-m'));
    await trace('mount', () => this.api.dockerMount('probe-m', 'probe'.padEnd(64, '0')));
    await trace('unmount', () => this.api.dockerUnmount('probe-m', 'probe'.padEnd(64, '0')));
    await this.must(this.api.deleteVolume('probe-m'));
    await this.daemon.arm({ step: 0 }); // counting off: step 0 never comes
    // a start, traced: how many steps its recovery takes
    await this.daemon.kill9();
    await this.daemon.start({ step: null });
    this.startSteps = this.daemon.steps.length;
    await this.daemon.arm({ step: 0 });
    await this.must(this.api.deleteVolume('probe-r'));
  }

  async trial(spec: DaemonTrialSpec, rng: Rng): Promise<void> {
    const trial = new Trial('daemon', 'vfs', spec.op, `daemon #${spec.n} ${spec.op}`, rng.seed);
    this.#trial = trial;
    let error: unknown;
    try {
      await this.#run(trial, spec, rng);
    } catch (err) {
      error = err;
    }
    this.#trial = undefined;
    if (!this.daemon.running) await this.daemon.start().catch(() => undefined);
    trial.finish(this.resultsFile, error);
  }

  async #run(trial: Trial, spec: DaemonTrialSpec, rng: Rng): Promise<void> {
    const n = spec.n;
    // the operation under test, and what it must leave when complete
    let run: () => Promise<Reply>;
    let judge: () => Promise<void>;
    if (spec.op === 'create') {
      const name = `c${n}`;
      run = () => this.api.createVolume(name);
      judge = () => judgeVolume(this, trial, name, EMPTY, run);
    } else if (spec.op === 'restore') {
      const [url, hash] = rng.pick([...this.backups]);
      const name = `r${n}`;
      run = () => this.api.createVolume(name, url);
      judge = () => judgeVolume(this, trial, name, hash, run);
    } else if (spec.op === 'snapshot') {
      await this.fill('base', rng.fork('fill'));
      const name = `s${n}`;
      const hash = this.volumes.get('base') ?? '';
      run = () => this.api.snapshot('base', name);
      judge = () => judgeSnapshot(this, trial, name, 'base', hash, run);
    } else if (spec.op === 'backup') {
      const snap = rng.pick([...this.snapshots.keys()]);
      run = () => this.api.backup(snap, this.storeUrl);
      judge = () => judgeBackup(this, trial, snap, run);
    } else if (spec.op === 'mount' || spec.op === 'unmount') {
      const name = `m${n}`;
      const id = randomBytes(32).toString('hex');
      await this.must(this.api.createVolume(name));
      await this.fill(name, rng.fork('fill'));
      if (spec.op === 'unmount') await this.must(this.api.dockerMount(name, id));
      run = () => (spec.op === 'mount' ? this.api.dockerMount(name, id) : this.api.dockerUnmount(name, id));
      judge = () => judgeMount(this, trial, name, id, spec.op === 'mount' ? 'mount' : 'unmount');
    } else {
      const name = `d${n}`;
      await this.must(this.api.createVolume(name));
      await this.fill(name, rng.fork('fill'));
      await this.#snapshotOf(name, `${name}-s`);
      run = () => this.api.deleteVolume(name);
      judge = () => judgeDelete(this, trial, name, run);
    }
    // the kill: at a seeded step (a few past the last: the kill comes after the answer), sometimes a little later
    // a kill of the daemon alone lands, when the operation runs programs, while one of them runs (it goes on)
    const total = this.steps.get(spec.op) ?? 1;
    const processOnly = rng.chance(0.25);
    const spawns = processOnly ? (this.spawnSteps.get(spec.op) ?? []) : [];
    const step = spawns.length > 0 ? rng.pick(spawns) : rng.chance(0.1) ? total + 1 : rng.int(1, total);
    const delayMs = spawns.length > 0 ? rng.int(1, 30) : rng.chance(0.2) ? rng.int(1, 40) : 0;
    await this.daemon.arm({ step, delayMs, processOnly });
    const answer = await run();
    if (this.daemon.running) await this.daemon.kill9();
    const at = this.daemon.killedAtStep;
    const what = at === undefined ? undefined : this.daemon.steps[at - 1];
    trial.fault(
      `SIGKILL${processOnly ? ' of the daemon alone' : ''} at step ${step}/${total}${delayMs > 0 ? ` + ${delayMs} ms` : ''} of ${spec.op}`,
    );
    const phase = at === undefined ? 'after the answer' : `at step ${at}/${total}: ${what?.replace(/^step \d+ /, '') ?? '?'}`;
    trial.outcome(`killed ${phase}${answer.status === 200 ? ' (it had answered)' : ''}`);
    trial.measure('killStep', at ?? total + 1);
    trial.measure('stepsTotal', total);
    // the restart (sometimes killed itself during its recovery first), and what it must find
    if (rng.chance(0.3)) {
      const at = rng.int(1, this.startSteps + 2);
      const r = await this.daemon.startKilled({ step: at });
      trial.fault(`its restart SIGKILLed at step ${at}/${this.startSteps} of the start`);
      if (r === 'ready') await this.daemon.kill9();
      trial.measure('restartKilledAtStep', this.daemon.killedAtStep ?? 0);
    }
    try {
      await this.daemon.start();
      trial.check('the daemon restarts', true);
    } catch (err) {
      trial.check('the daemon restarts', false, (err as Error).message.slice(0, 1500));
      return;
    }
    await checkConsistent(this, trial, 'after the restart');
    await judge();
    await checkIntact(this, trial);
    await checkConsistent(this, trial, 'after the re-run');
  }

  /** After every trial: each completed backup restores bit-exact, verify is clean, the layout is consistent. */
  async final(): Promise<void> {
    const trial = new Trial('daemon', 'vfs', 'final', 'daemon: every completed backup restores bit-exact', 0);
    this.#trial = trial;
    let error: unknown;
    try {
      await this.daemon.kill9();
      await this.daemon.start();
      await checkConsistent(this, trial, 'at the end');
      await checkIntact(this, trial);
      await verifyStore(this, trial);
      for (const [url, hash] of this.backups) {
        const got = await this.api.restoredHash(url, this.scratchName());
        trial.check(
          'completed backup restores bit-exact',
          got === hash,
          typeof got === 'string' ? `${url} restores to ${got} instead of ${hash}` : `restoring ${url}: ${got.status} ${got.code ?? ''}`,
        );
      }
      trial.outcome(
        `${this.volumes.size} volumes, ${this.snapshots.size} snapshots and ${this.backups.size} backups intact after ${this.daemon.starts} daemon starts`,
      );
    } catch (err) {
      error = err;
    }
    this.#trial = undefined;
    trial.finish(this.resultsFile, error);
  }

  /** Drops a volume and its snapshots from the model (deleted by a trial). */
  forget(volume: string): void {
    this.volumes.delete(volume);
    for (const [name, s] of this.snapshots) if (s.volume === volume) this.snapshots.delete(name);
  }

  async close(): Promise<void> {
    await this.daemon.dispose();
  }

  same(got: string | undefined, want: string): boolean {
    return want === EMPTY ? got !== undefined && got === EMPTY_HASH : got === want;
  }

  scratchName(): string {
    return `chk${++this.#scratch}`;
  }

  async fill(volume: string, rng: Rng): Promise<void> {
    const v = await this.api.volume(volume);
    const dir = String(v?.status?.path);
    await writeTree(dir, rng, this.size.daemon.filesPerFill, this.size.daemon.maxFileBytes);
    this.volumes.set(volume, (await treeHash(dir)) ?? '');
  }

  async #snapshotOf(volume: string, name: string): Promise<void> {
    await this.must(this.api.snapshot(volume, name));
    this.snapshots.set(name, { volume, hash: this.volumes.get(volume) ?? '' });
  }

  async #backupOf(snapshot: string): Promise<string> {
    const r = await this.must(this.api.backup(snapshot, this.storeUrl));
    const url = String((r.json as { url: string }).url);
    this.backups.set(url, this.snapshots.get(snapshot)?.hash ?? '');
    return url;
  }

  async must(p: Promise<Reply>): Promise<Reply> {
    const r = await p;
    if (r.status !== 200 || r.code !== undefined)
      throw new Error(`set-up step failed: ${r.status} ${r.code ?? r.error ?? ''} ${r.message ?? ''}\n${this.daemon.runLog.slice(-2000)}`);
    return r;
  }
}

export const removeDir = (dir: string): Promise<void> => fs.rm(dir, { recursive: true, force: true });
