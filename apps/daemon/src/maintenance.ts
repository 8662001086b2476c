// Scheduled maintenance of the backup stores this daemon uses (README.md, "Maintenance"): deletes
// of format v2 free nothing until maintenance merges them, and blocks are freed only by a full one.
import type { MaintenanceResult } from '@convoy/blockstore';
import { errorCode, isConvoyError, redactUrl } from '@convoy/errors';
import { formatStoreUrl, parseStoreUrl } from '@convoy/objectstore';
import type { MaintenanceSchedule } from './config.js';
import type { Logger } from './logger.js';

/** Time as the scheduler sees it, injected so its tests need no sleeps. */
export interface Timers {
  /** Milliseconds (Date.now). */
  now(): number;
  /** Calls `fn` once after `ms`; the handle is only passed back to clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(), // the daemon's sockets keep it alive, not this
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SchedulerOptions extends MaintenanceSchedule {
  /** One maintenance of one store: open it, runMaintenance, close it. */
  run(storeUrl: string, full: boolean, signal: AbortSignal): Promise<MaintenanceResult>;
  log: Logger;
  timers?: Timers;
}

interface StoreState {
  /** When a full maintenance is due next (the first tick after the store was remembered). */
  fullDueAt: number;
  /** A format v1 store: said once at warn level, then at debug. */
  toldUnsupported: boolean;
}

/**
 * Runs maintenance of the stores it is told about (`remember`), one store at a time: every
 * `quickEveryMs` a quick one, and a full one instead when the store's last full run is
 * `fullEveryMs` ago (the first at the first tick after the store was remembered). The next tick is
 * armed only when a run has finished, so runs never overlap; `stop()` aborts the running one (it
 * releases its lease) and waits for it.
 */
export class MaintenanceScheduler {
  readonly #o: SchedulerOptions;
  readonly #timers: Timers;
  readonly #stores = new Map<string, StoreState>();
  readonly #abort = new AbortController();
  #timer: unknown;
  #armed = false;
  #running: Promise<void> | undefined;
  #started = false;

  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Whether any maintenance is scheduled at all. */
  get enabled(): boolean {
    return this.#o.quickEveryMs !== null || this.#o.fullEveryMs !== null;
  }

  /** The stores it maintains, as store URLs without query. */
  get stores(): string[] {
    return [...this.#stores.keys()];
  }

  /** Maintain this store from now on (a store or backup URL; queries are dropped, a bad URL is ignored). */
  remember(url: string): void {
    let key: string;
    try {
      key = formatStoreUrl(parseStoreUrl(url).location);
    } catch {
      return;
    }
    if (this.#stores.has(key) || !this.enabled) return;
    this.#stores.set(key, { fullDueAt: this.#timers.now(), toldUnsupported: false });
    this.#o.log.debug({ store: redactUrl(key) }, 'backup store added to scheduled maintenance');
  }

  start(): void {
    if (this.#started || !this.enabled) return;
    this.#started = true;
    this.#o.log.info(
      { quickEveryMs: this.#o.quickEveryMs, fullEveryMs: this.#o.fullEveryMs },
      'scheduled maintenance of the backup stores this daemon uses',
    );
    this.#arm();
  }

  /** Stops: no new run starts; a running one is aborted and awaited. */
  async stop(): Promise<void> {
    if (this.#abort.signal.aborted) return this.#running;
    this.#abort.abort(new Error('convoy-daemon is stopping'));
    if (this.#armed) this.#timers.clearTimeout(this.#timer);
    this.#armed = false;
    await this.#running;
  }

  /** Resolves when no run is in progress (for tests: fire the timer, then await this). */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  #arm(): void {
    if (this.#abort.signal.aborted) return;
    const every = this.#o.quickEveryMs ?? this.#o.fullEveryMs;
    if (every === null) return;
    this.#armed = true;
    this.#timer = this.#timers.setTimeout(() => {
      this.#armed = false;
      this.#running = this.#tick().finally(() => {
        this.#running = undefined;
        this.#arm();
      });
    }, every);
  }

  async #tick(): Promise<void> {
    for (const [url, state] of this.#stores) {
      if (this.#abort.signal.aborted) return;
      const started = this.#timers.now();
      const full = this.#o.fullEveryMs !== null && started >= state.fullDueAt;
      if (!full && this.#o.quickEveryMs === null) continue;
      const store = redactUrl(url);
      try {
        const r = await this.#o.run(url, full, this.#abort.signal);
        if (full && this.#o.fullEveryMs !== null) state.fullDueAt = started + this.#o.fullEveryMs;
        const level = r.problems.length > 0 ? 'warn' : 'info';
        this.#o.log[level](
          { store, ...summary(r), ms: this.#timers.now() - started },
          r.full ? 'full maintenance done' : 'maintenance done',
        );
      } catch (err) {
        this.#failed(store, full, state, err);
      }
    }
  }

  #failed(store: string, full: boolean, state: StoreState, err: unknown): void {
    const code = errorCode(err);
    const message = err instanceof Error ? err.message : String(err);
    const hint = isConvoyError(err) ? err.hint : undefined;
    if (this.#abort.signal.aborted) {
      this.#o.log.info({ store, full }, 'maintenance stopped: the daemon is stopping (the next start runs it again)');
    } else if (code === 'CONVOY_FORMAT_UNSUPPORTED') {
      // A format v1 store: its deletes collect garbage themselves. Said once; checked again each time.
      this.#o.log[state.toldUnsupported ? 'debug' : 'warn'](
        { store, code, err: message, hint },
        'backup store is not maintained: it is format v1',
      );
      state.toldUnsupported = true;
    } else if (code === 'CONVOY_STORE_LOCKED') {
      this.#o.log.info({ store, full, code, err: message }, 'maintenance skipped: another maintenance of this store is running');
    } else {
      this.#o.log.warn({ store, full, code, err: message, hint }, 'maintenance failed; it is tried again at the next interval');
    }
  }
}

/** The numbers worth a log line. */
function summary(r: MaintenanceResult): Record<string, unknown> {
  const out: Record<string, unknown> = {
    full: r.full,
    generation: r.generation,
    adds: r.merge.adds,
    deletes: r.merge.deletes,
    abandoned: r.merge.abandoned,
    inFlight: r.merge.inFlight,
  };
  if (r.sweep !== undefined) {
    Object.assign(out, {
      blocksDeleted: r.sweep.blocksDeleted,
      blocksSpared: r.sweep.blocksSpared,
      blocksMarked: r.sweep.blocksMarked,
      orphanMapsDeleted: r.sweep.orphanMapsDeleted,
      staleRemoved: r.sweep.staleRemoved,
      postponed: r.sweep.postponed,
    });
  }
  if (r.problems.length > 0) out.problems = r.problems;
  return out;
}
