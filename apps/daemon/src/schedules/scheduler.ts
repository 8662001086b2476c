// Scheduled backups in the daemon (docs/schedules.md): each policy runs when due — snapshot, backup,
// retention, snapshot deleted — one run per volume at a time, the next time armed when a run ends.
// Policies and their next run time are durable (store.ts), so a restart keeps them, and a run that
// was due while the daemon was down (or killed) runs once at start.
import { ConvoyError, isConvoyError } from '@convoy/errors';
import type { Logger } from '../logger.js';
import { systemTimers, type Timers } from '../maintenance.js';
import { checkSchedule, nextRunAfter, type SchedulePolicy, type ScheduleRun } from './policy.js';
import type { ScheduleStore } from './store.js';

/** One run of a policy: what it made. */
export interface RunResult {
  url: string;
  /** Backups retention removed. */
  removed: number;
}

export interface BackupSchedulerOptions {
  store: ScheduleStore;
  /** Snapshot, back up, apply retention, delete the snapshot (run.ts). */
  run(policy: SchedulePolicy, signal: AbortSignal): Promise<RunResult>;
  /** Before the first run: clean up what runs killed with the daemon left (their snapshots). */
  beforeStart?(volumes: string[]): Promise<void>;
  log: Logger;
  timers?: Timers;
}

export type NewSchedule = Pick<SchedulePolicy, 'volume' | 'dest' | 'every' | 'cron' | 'keep'>;

/** A policy as `convoy backup schedules` shows it. */
export type ScheduleView = SchedulePolicy & { running: boolean };

export class BackupScheduler {
  readonly #o: BackupSchedulerOptions;
  readonly #timers: Timers;
  readonly #policies = new Map<string, SchedulePolicy>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #abort = new AbortController();
  #timer: unknown;
  #stopped = false;

  constructor(o: BackupSchedulerOptions) {
    this.#o = o;
    this.#timers = o.timers ?? systemTimers;
  }

  /** Loads the saved policies; those due (missed while the daemon was down) run at once, once. */
  async start(): Promise<void> {
    for (const p of await this.#o.store.all()) this.#policies.set(p.volume, p);
    await this.#o.beforeStart?.([...this.#policies.keys()]);
    this.#arm();
  }

  /** Adds or replaces the volume's policy (saved before it answers); its first run is one interval or cron time from now. */
  async set(s: NewSchedule): Promise<SchedulePolicy> {
    checkSchedule(s);
    const now = this.#timers.now();
    const p: SchedulePolicy = {
      version: 1,
      volume: s.volume,
      dest: s.dest,
      ...(s.every === undefined ? {} : { every: s.every }),
      ...(s.cron === undefined ? {} : { cron: s.cron }),
      ...(s.keep === undefined ? {} : { keep: s.keep }),
      createdAt: new Date(now).toISOString(),
      nextRun: nextRunAfter(s, now),
    };
    await this.#o.store.save(p);
    this.#policies.set(p.volume, p);
    this.#arm();
    return p;
  }

  async remove(volume: string): Promise<void> {
    if (!this.#policies.has(volume))
      throw new ConvoyError('CONVOY_SCHEDULE_NOT_FOUND', `volume ${volume} has no backup schedule`, {
        hint: 'convoy backup schedules lists them',
      });
    await this.#o.store.remove(volume);
    this.#policies.delete(volume);
    this.#arm();
  }

  list(): ScheduleView[] {
    return [...this.#policies.values()]
      .sort((a, b) => a.volume.localeCompare(b.volume))
      .map((p) => ({ ...p, running: this.#running.has(p.volume) }));
  }

  /** Resolves when no run is going (each run's record saved). */
  async whenIdle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled(this.#running.values());
  }

  /** Stops arming runs, aborts the running ones and waits for them. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#abort.abort(new ConvoyError('CONVOY_ABORTED', 'the daemon is stopping'));
    await Promise.allSettled(this.#running.values());
  }

  /** Arms one timer for the earliest policy that is not running. */
  #arm(): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiting = [...this.#policies.values()].filter((p) => !this.#running.has(p.volume));
    if (waiting.length === 0) return;
    const due = Math.min(...waiting.map((p) => p.nextRun));
    this.#timer = this.#timers.setTimeout(() => this.#fire(), Math.max(0, due - this.#timers.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.#timers.now();
    for (const p of this.#policies.values()) {
      if (p.nextRun <= now && !this.#running.has(p.volume)) {
        const run = this.#runOne(p).finally(() => {
          this.#running.delete(p.volume);
          this.#arm();
        });
        this.#running.set(p.volume, run);
      }
    }
    this.#arm();
  }

  async #runOne(p: SchedulePolicy): Promise<void> {
    const started = this.#timers.now();
    let lastRun: ScheduleRun;
    try {
      const r = await this.#o.run(p, this.#abort.signal);
      lastRun = { at: new Date(started).toISOString(), outcome: 'ok', url: r.url, removed: r.removed };
      this.#o.log.info({ volume: p.volume, url: r.url, removed: r.removed }, 'scheduled backup done');
    } catch (err) {
      const code = isConvoyError(err) ? err.code : 'CONVOY_INTERNAL';
      lastRun = { at: new Date(started).toISOString(), outcome: 'failed', error: { code, message: (err as Error).message } };
      this.#o.log.warn({ volume: p.volume, code, err: (err as Error).message }, 'scheduled backup failed');
    }
    if (this.#stopped && lastRun.error?.code === 'CONVOY_ABORTED') return; // runs again at the next start
    const current = this.#policies.get(p.volume);
    if (current === undefined || current.createdAt !== p.createdAt) return; // removed or replaced meanwhile
    // The next time after the one this run was for, skipping those that passed while it ran.
    let next = nextRunAfter(p, p.nextRun);
    while (next <= this.#timers.now()) next = nextRunAfter(p, next);
    const updated: SchedulePolicy = { ...p, nextRun: next, lastRun };
    try {
      await this.#o.store.save(updated);
    } catch (err) {
      this.#o.log.error({ volume: p.volume, err: (err as Error).message }, 'cannot save the schedule after its run');
    }
    this.#policies.set(p.volume, updated);
  }
}
