// Taking and holding a lease in a store (docs/format.md, "Leases"); the records themselves are in lease-records.ts.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { ObjectStore } from '@convoy/objectstore';
import { systemClock, type Clock } from './clock.js';
import { BlockstoreError } from './errors.js';
import { lockKey } from './format/layout.js';
import { DEFAULT_LEASE_TTL_MS, conflicts, listLeases, listedTime, type LeaseInfo, type LockBody, type LockKind } from './lease-records.js';

export interface LockOptions {
  kind: LockKind;
  volume?: string;
  /** What the holder does, shown to those who wait (e.g. 'upgrade'). */
  purpose?: string;
  /** Lease lifetime without refresh (default 150 s, as longhorn's backupstore). */
  ttlMs?: number;
  /**
   * How long to keep trying while another party holds a *live* (refreshed) conflicting lease
   * (default 10 min). A lease that stops being refreshed (its holder was killed) is waited out
   * until it expires, however long that is, and then taken over: a dead holder never makes
   * another operation fail.
   */
  waitMs?: number;
  host?: string;
  signal?: AbortSignal;
  clock?: Clock;
  /** Injected for tests (backoff jitter). */
  random?: () => number;
  /** Called while waiting for a holder. */
  onWait?: (holder: LockBody) => void;
}

/** Share of the TTL after the last refresh was *sent* at which a holder considers its lease lost. */
const SAFE_SHARE = 0.8;

/**
 * A lease held in the store (docs/format.md, "Leases"). Refreshed in the background. Its holder
 * judges it with the monotonic clock from the moment the last successful refresh was *sent*: past
 * 80 % of the TTL it is lost, before any other party (judging by the store's clock from the
 * refresh's arrival) can consider it expired. Once lost it stays lost: it is never rewritten, so it
 * cannot come back to life, and `assertHeld()` throws for good.
 */
export class StoreLock {
  readonly id: string;
  readonly kind: LockKind;
  readonly key: string;
  readonly #store: ObjectStore;
  #body: LockBody;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  #timer: NodeJS.Timeout | undefined;
  #lastSent: number;
  #lost: BlockstoreError | undefined;
  #refreshing: Promise<void> | undefined;

  /** @internal `sentAt`: monotonic time at which the lease's first write was sent. */
  constructor(store: ObjectStore, body: LockBody, clock: Clock, sentAt: number) {
    this.#store = store;
    this.id = body.id;
    this.kind = body.kind;
    this.key = lockKey(body.id);
    this.#body = body;
    this.#ttlMs = body.ttlMs;
    this.#clock = clock;
    this.#lastSent = sentAt;
  }

  get body(): LockBody {
    return this.#body;
  }

  /** @internal */
  startRefresh(): void {
    this.#timer = setInterval(
      () => {
        this.#refreshing ??= this.refresh().finally(() => {
          this.#refreshing = undefined;
        });
      },
      Math.max(10, Math.floor(this.#ttlMs / 5)),
    );
    this.#timer.unref();
  }

  #checkAge(): void {
    const age = this.#clock.monotonic() - this.#lastSent;
    if (this.#lost === undefined && age > this.#ttlMs * SAFE_SHARE) {
      this.#lost = new BlockstoreError(
        'CONVOY_LOCK_LOST',
        `lease ${this.id} (${this.kind}) was not refreshed for ${Math.round(age / 1000)} s and is lost`,
        {
          hint: 'the process was paused or the store unreachable for too long; nothing was committed: run the operation again',
          details: { lease: this.id },
        },
      );
    }
  }

  /** Rewrites the lease (its store time is its liveness), unless it is lost or was removed. */
  async refresh(): Promise<void> {
    this.#checkAge();
    if (this.#lost !== undefined) return;
    try {
      if ((await this.#store.stat(this.key)) === undefined) {
        this.#lost = new BlockstoreError('CONVOY_LOCK_LOST', `lease ${this.id} was removed from the store while held`, {
          hint: 'another process judged it expired; run the operation again',
        });
        return;
      }
      this.#checkAge(); // the stat may have taken long: never rewrite a lease that may have expired
      if (this.#lost !== undefined) return;
      const sent = this.#clock.monotonic();
      await this.#store.put(this.key, Buffer.from(JSON.stringify(this.#body)));
      this.#checkAge(); // judged from the previous refresh: a put that took too long does not count
      if (this.#lost === undefined) this.#lastSent = sent;
    } catch {
      // transient: assertHeld() decides once the TTL is at risk
    }
  }

  /** Records what the holder works on (e.g. the backup id once known), with a refresh. */
  async annotate(fields: Pick<LockBody, 'backup'>): Promise<void> {
    this.#body = { ...this.#body, ...fields };
    await this.refresh();
    this.assertHeld();
  }

  /**
   * For long loops: refreshes inline when a refresh is due (the background timer cannot fire while
   * the event loop is busy, e.g. on a fast store that answers in microtasks), lets other macrotasks
   * run, then asserts the lease is held.
   */
  async keepAlive(): Promise<void> {
    if (!this.lost && this.#clock.monotonic() - this.#lastSent > this.#ttlMs / 5) await (this.#refreshing ?? this.refresh());
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.assertHeld();
  }

  /** Throws if the lease may have expired or was removed: commit nothing then. */
  assertHeld(): void {
    this.#checkAge();
    if (this.#lost !== undefined) throw this.#lost;
  }

  get lost(): boolean {
    this.#checkAge();
    return this.#lost !== undefined;
  }

  async release(): Promise<void> {
    clearInterval(this.#timer);
    await this.#refreshing;
    await this.#store.delete([this.key]).catch(() => undefined); // an expired lease is harmless
  }
}

/**
 * Takes a lease of `kind`. Writes it (only-if-absent, a fresh id), then lists the others: a live
 * conflicting one makes us remove ours and retry after a jittered backoff; expired ones (by the
 * store's clock) are removed on the way (they are harmless, and would otherwise pile up).
 */
export async function acquireLock(store: ObjectStore, options: LockOptions): Promise<StoreLock> {
  const clock = options.clock ?? systemClock;
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const start = clock.monotonic();
  const waitMs = options.waitMs ?? 600_000;
  const random = options.random ?? Math.random;
  const sig = { signal: options.signal };
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    const body: LockBody = {
      id: `${options.kind}-${clock.now().getTime().toString(36)}-${randomBytes(6).toString('hex')}`,
      kind: options.kind,
      volume: options.volume ?? null,
      purpose: options.purpose,
      host: options.host ?? os.hostname(),
      pid: process.pid,
      created: clock.now().toISOString(),
      ttlMs,
    };
    const key = lockKey(body.id);
    const sentAt = clock.monotonic();
    await store.put(key, Buffer.from(JSON.stringify(body)), { ifAbsent: true, ...sig });
    const mine = await listedTime(store, key, clock.now(), options.signal);
    let holder: { info: LeaseInfo; stale: boolean } | undefined;
    const rivals = (['backup', 'restore', 'delete', 'maintenance'] as const).filter((k) => conflicts(options.kind, k));
    for (const l of await listLeases(store, mine, options.signal, key, rivals)) {
      if (l.expired) {
        await store.delete([l.key]).catch(() => undefined); // take over: an expired lease is dead for good
        continue;
      }
      if (holder === undefined && conflicts(options.kind, l.body.kind)) {
        // A holder refreshes every TTL/5: one whose lease is older than 2/5 of its TTL (store clock)
        // has missed refreshes and is most likely dead: wait it out until it expires, whatever
        // waitMs says. One that refreshes is alive: give up after waitMs.
        const age = l.lastModified === undefined ? 0 : mine.getTime() - l.lastModified.getTime();
        // An unreadable lease record is never refreshed: waited out until it expires, as a dead holder's.
        holder = { info: l, stale: l.corrupt !== undefined || age > l.body.ttlMs * 0.4 };
      }
    }
    if (holder === undefined) {
      const lock = new StoreLock(store, body, clock, sentAt);
      lock.startRefresh();
      return lock;
    }
    await store.delete([key]);
    const h = holder.info.body;
    if (!holder.stale && clock.monotonic() - start >= waitMs) {
      throw new BlockstoreError(
        'CONVOY_STORE_LOCKED',
        `${store.location} is locked by a ${h.purpose ?? h.kind} on ${h.host} (pid ${h.pid}, since ${h.created}${h.volume === null ? '' : `, volume ${h.volume}`})`,
        { hint: 'it is alive and refreshing its lease; wait for it to finish and try again', details: { holder: h } },
      );
    }
    options.onWait?.(h);
    await clock.sleep(Math.min(5_000, 100 * 2 ** Math.min(attempt, 6)) * (0.5 + random()), options.signal);
  }
}
