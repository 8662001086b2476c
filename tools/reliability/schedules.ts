// Scheduled backups killed mid-run: convoy-daemon (vfs driver, daemon-process.ts) holds a policy
// (`every 1h`, `--keep-last K`, made over the control API) of one volume into an encrypted vfs store
// (`--backup-password-file`). A trial makes the run due as a daemon that was down through its time
// finds it (the policy file's next run moved into the past while the daemon is stopped: the real
// clock cannot be moved, and an interval under a minute is refused), starts the daemon with the kill
// hook armed from its start (daemon-kill-hook.ts) so it dies at a seeded step of that missed run —
// snapshot, backup, retention, snapshot delete, policy saved — and restarts it. The restart must run
// the missed run once (unless the killed one was saved); afterwards no snapshot of a scheduled run
// is left, the policy shows a last run ok and nothing stuck, at most the killed run's and the missed
// run's backups are new, retention removed only what --keep-last lets go, every backup restores
// bit-exact and verify --read-data is clean.
import fs from 'node:fs/promises';
import path from 'node:path';
import { runCli } from './convoy.js';
import { DaemonApi } from './daemon-api.js';
import { DaemonProcess } from './daemon-process.js';
import type { Size } from './config.js';
import type { Rng } from './prng.js';
import {
  checkBackups,
  checkNoLeftovers,
  checkPolicy,
  policyFile,
  readPolicyFile,
  verifyEncrypted,
  waitForRun,
} from './schedules-checks.js';
import { Trial } from './trial.js';
import { treeHash, writeTree } from './tree.js';

const HOST = 'rel-sched';
const VOLUME = 'sched';
/** How long a scheduled run (and the start before it) may take before the wait counts as a hang. */
const RUN_DEADLINE_MS = 120_000;

export class SchedulesCampaign {
  readonly dir: string;
  readonly size: Size;
  readonly resultsFile: string;
  readonly daemon: DaemonProcess;
  readonly api: DaemonApi;
  readonly storeUrl: string;
  readonly #root: string;
  readonly #passFile: string;
  #password = '';
  /** Every backup a run made, oldest first, with the hash of the volume it was taken of. */
  readonly made: { url: string; hash: string }[] = [];
  /** The volume's current content. */
  #hash = '';
  /** Steps of a start with a missed run: until it is ready, and until the run is saved (the last traced run). */
  readySteps = 0;
  totalSteps = 0;
  #trial: Trial | undefined;
  #scratch = 0;

  constructor(dir: string, size: Size, resultsFile: string) {
    this.dir = dir;
    this.size = size;
    this.resultsFile = resultsFile;
    this.#root = path.join(dir, 'root');
    this.#passFile = path.join(dir, 'backup-password');
    this.storeUrl = `vfs://${path.join(dir, 'backups')}`;
    this.daemon = new DaemonProcess({
      label: HOST,
      dir,
      root: this.#root,
      vfsPath: path.join(dir, 'vfs'),
      hostId: HOST,
      leaseTtlMs: size.leaseTtlMs,
      startTimeoutMs: 60_000,
      extraArgs: ['--backup-password-file', this.#passFile],
    });
    this.api = new DaemonApi(this.daemon, () => this.#trial);
  }

  /** The encrypted store, the daemon, the volume and its policy; three missed runs traced (how many steps each takes). */
  async setup(rng: Rng): Promise<void> {
    this.#password = `sched-${rng.int(0, 2 ** 31)} ü`;
    await fs.writeFile(this.#passFile, `${this.#password}\n`, { mode: 0o600 });
    const init = await runCli(['init', this.storeUrl, '--encrypt', '--json'], {
      timeoutMs: this.size.timeoutMs,
      env: { CONVOY_PASSWORD: this.#password },
    });
    if (init.code !== 0) throw new Error(`set-up init --encrypt failed: ${init.errorCode ?? init.code} ${init.errorMessage ?? ''}`);
    await this.daemon.start();
    await this.#must('create the volume', await this.api.createVolume(VOLUME));
    const body = { volume: VOLUME, dest: this.storeUrl, every: '1h', keep: { last: this.size.schedules.keepLast } };
    await this.#must('schedule', await this.daemon.control.call('POST', '/v1/schedules', body));
    for (let i = 0; i < 3; i++) {
      await this.#fill(rng.fork(`fill-${i}`));
      await this.#makeDue();
      const since = Date.now();
      await this.daemon.start({ step: null }); // counting from the start
      this.readySteps = this.daemon.steps.length;
      if ((await waitForRun(this.daemon, VOLUME, since, RUN_DEADLINE_MS)) !== 'done')
        throw new Error(`set-up: the missed run did not finish\n${this.daemon.runLog.slice(-2000)}`);
      this.totalSteps = this.daemon.steps.length;
      const p = await readPolicyFile(this.#root, VOLUME);
      if (p.lastRun?.outcome !== 'ok' || p.lastRun.url === undefined) throw new Error(`set-up run failed: ${JSON.stringify(p.lastRun)}`);
      this.made.push({ url: p.lastRun.url, hash: this.#hash });
    }
  }

  async #must(what: string, r: { status: number; code?: string; message?: string }): Promise<void> {
    if (r.status !== 200)
      throw new Error(`set-up ${what} failed: ${r.status} ${r.code ?? ''} ${r.message ?? ''}\n${this.daemon.runLog.slice(-2000)}`);
  }

  /** New content in the volume (through its path, as a container would write it). */
  async #fill(rng: Rng): Promise<void> {
    const v = await this.api.volume(VOLUME);
    const dir = String(v?.status?.path);
    await writeTree(dir, rng, this.size.schedules.filesPerFill, this.size.schedules.maxFileBytes);
    this.#hash = (await treeHash(dir)) ?? '';
  }

  /** The daemon killed, and its policy's next run moved an hour into the past: a run missed while it was down. */
  async #makeDue(): Promise<void> {
    await this.daemon.kill9();
    const p = await readPolicyFile(this.#root, VOLUME);
    await fs.writeFile(policyFile(this.#root, VOLUME), `${JSON.stringify({ ...p, nextRun: Date.now() - 3_600_000 }, null, 2)}\n`);
  }

  async trial(n: number, rng: Rng): Promise<void> {
    const trial = new Trial('schedules', 'vfs', 'scheduled-run', `schedules #${n} scheduled run`, rng.seed);
    this.#trial = trial;
    let error: unknown;
    try {
      await this.#run(trial, rng);
    } catch (err) {
      error = err;
    }
    this.#trial = undefined;
    if (!this.daemon.running) await this.daemon.start().catch(() => undefined);
    trial.finish(this.resultsFile, error);
  }

  async #run(trial: Trial, rng: Rng): Promise<void> {
    await this.#fill(rng.fork('fill'));
    await this.#makeDue();
    // The kill: mostly at a step of the run; sometimes in the start's own recovery, or after the run (saved).
    const ready = this.readySteps;
    const total = Math.max(this.totalSteps, ready + 1);
    const r = rng.next();
    const step = r < 0.1 ? rng.int(1, Math.max(1, ready)) : r < 0.2 ? total + 1 : rng.int(ready + 1, total);
    const delayMs = rng.chance(0.2) ? rng.int(1, 40) : 0;
    const since = Date.now();
    let killedIn: string;
    try {
      await this.daemon.start({ step, delayMs });
      const ran = await waitForRun(this.daemon, VOLUME, since, RUN_DEADLINE_MS);
      if (ran === 'timeout') trial.fail(`the missed run did not finish within ${RUN_DEADLINE_MS} ms of the start`);
      killedIn = ran === 'done' ? 'the run was saved, then the daemon was killed' : 'killed during the run';
      if (ran === 'exited' && this.daemon.killedAtStep === undefined)
        trial.fail(`the daemon exited by itself during the scheduled run:\n${this.daemon.runLog.slice(-1500)}`);
      await this.daemon.kill9();
    } catch (err) {
      if (this.daemon.killedAtStep === undefined) throw err;
      killedIn = 'killed during the start, before it was ready';
    }
    const at = this.daemon.killedAtStep;
    const what = at === undefined ? undefined : this.daemon.steps[at - 1]?.replace(/^step \d+ /, '');
    trial.fault(`SIGKILL at step ${step}/${total}${delayMs > 0 ? ` + ${delayMs} ms` : ''} of a start with a missed scheduled run`);
    if (at !== undefined && at <= ready && killedIn === 'killed during the run')
      killedIn = 'killed during the start, before its scheduled run';
    trial.outcome(at === undefined ? killedIn : `${killedIn}: step ${at}/${total}, ${what ?? '?'}`);
    trial.measure('killStep', at ?? total + 1);
    trial.measure('stepsTotal', total);
    trial.measure('readySteps', ready);

    // The restart: the missed run runs once, unless the killed one was saved.
    const saved = await readPolicyFile(this.#root, VOLUME);
    const due = saved.nextRun <= Date.now();
    trial.measure('rerunAtStart', due ? 1 : 0);
    const restart = Date.now();
    try {
      await this.daemon.start({ step: null });
      trial.check('the daemon restarts', true);
    } catch (err) {
      trial.check('the daemon restarts', false, (err as Error).message.slice(0, 1500));
      return;
    }
    if (due) {
      const ran = await waitForRun(this.daemon, VOLUME, restart, RUN_DEADLINE_MS);
      trial.check('the missed run runs at start and completes', ran === 'done', `${ran}\n${this.daemon.runLog.slice(-1500)}`);
      if (ran === 'done' && this.daemon.steps.length > this.readySteps) this.totalSteps = this.daemon.steps.length;
    } else
      trial.check(
        'a policy not due at the restart records the killed run as its last run',
        Date.parse(saved.lastRun?.at ?? '') >= since,
        `next run ${new Date(saved.nextRun).toISOString()}, last run ${JSON.stringify(saved.lastRun)}`,
      );
    const policy = await checkPolicy(this.daemon, trial, VOLUME, since);
    await checkNoLeftovers(this.daemon, trial, VOLUME);

    // The backups: at most the killed run's and the missed run's are new; the last run's is listed.
    const before = new Set(this.made.map((b) => b.url));
    const listed = await this.api.backups(this.storeUrl);
    const fresh = listed.filter((u) => !before.has(u));
    trial.check('at most one backup per run: the killed one and the missed one', fresh.length <= 2, `new: ${fresh.join(', ')}`);
    trial.check(
      "the last run's backup is listed",
      policy?.lastRun?.url !== undefined && listed.includes(policy.lastRun.url),
      `last run ${policy?.lastRun?.url ?? 'none'}`,
    );
    trial.measure('newBackups', fresh.length);
    for (const url of fresh.sort()) this.made.push({ url, hash: this.#hash });
    await checkBackups(this.api, trial, {
      dest: this.storeUrl,
      made: this.made,
      keep: this.size.schedules.keepLast,
      scratch: () => this.#scratchName(),
    });
    await verifyEncrypted(trial, this.storeUrl, this.#password, this.size.timeoutMs);
  }

  #scratchName(): string {
    return `chk${++this.#scratch}`;
  }

  /** After every trial: a restart runs nothing (no run due), everything restores, verify is clean; unschedule removes the policy. */
  async final(): Promise<void> {
    const trial = new Trial('schedules', 'vfs', 'final', 'schedules: the store and the policy after every trial', 0);
    this.#trial = trial;
    let error: unknown;
    try {
      await this.daemon.kill9();
      await this.daemon.start();
      await checkNoLeftovers(this.daemon, trial, VOLUME);
      const listed = await checkBackups(this.api, trial, {
        dest: this.storeUrl,
        made: this.made,
        keep: this.size.schedules.keepLast,
        scratch: () => this.#scratchName(),
      });
      await verifyEncrypted(trial, this.storeUrl, this.#password, this.size.timeoutMs);
      const del = await this.daemon.control.call('DELETE', `/v1/schedules/${VOLUME}`);
      const after = await this.daemon.control.call('GET', '/v1/schedules');
      trial.check(
        'unschedule removes the policy',
        del.status === 200 && (after.json as { schedules?: unknown[] } | undefined)?.schedules?.length === 0,
        `DELETE answered ${del.status} ${del.code ?? ''}; GET ${after.text.slice(0, 300)}`,
      );
      trial.outcome(
        `${this.made.length} backups made by scheduled runs, ${listed.length} kept by retention, after ${this.daemon.starts} daemon starts`,
      );
    } catch (err) {
      error = err;
    }
    this.#trial = undefined;
    trial.finish(this.resultsFile, error);
  }

  async close(): Promise<void> {
    await this.daemon.dispose();
  }
}
