import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { ObjectNotFoundError, type ObjectInfo, type ObjectStore } from '@convoy/objectstore';
import { z } from 'zod';
import { systemClock, type Clock } from './clock.js';
import { BlockstoreError } from './errors.js';
import { LOCKS_PREFIX, lockKey } from './format/layout.js';

/**
 * - `backup`, `restore`: shared leases; they exclude only `delete`.
 * - `delete`: format v1's delete + GC, which excludes everything; a v2 upgrade takes it too, so
 *   format-v1 programs wait for it instead of writing into a store being converted.
 * - `maintenance`: format v2's maintenance; excludes only another maintenance (and `delete`).
 */
export type LockKind = 'backup' | 'restore' | 'delete' | 'maintenance';

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

const lockBody = z.object({
  id: z.string().min(1).max(80),
  kind: z.enum(['backup', 'restore', 'delete', 'maintenance']),
  volume: z.string().nullable(),
  purpose: z.string().optional(),
  backup: z.string().optional(),
  host: z.string(),
  pid: z.number().int(),
  created: z.string(),
  ttlMs: z.number().int().positive(),
});
export type LockBody = z.infer<typeof lockBody>;

/** Share of the TTL after the last refresh was *sent* at which a holder considers its lease lost. */
const SAFE_SHARE = 0.8;

export const conflicts = (a: LockKind, b: LockKind): boolean =>
  a === 'delete' || b === 'delete' || (a === 'maintenance' && b === 'maintenance');

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

/** A lease read from the store: its body, or an error naming the key if it is not one of ours. */
export async function readLock(store: ObjectStore, key: string, signal?: AbortSignal): Promise<LockBody | undefined> {
  let bytes: Buffer;
  try {
    bytes = await store.get(key, { signal });
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined; // released meanwhile
    throw err;
  }
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined; // a lease is written whole (atomic put); unparsable means not a lease of ours
  }
  const parsed = lockBody.safeParse(v);
  return parsed.success ? parsed.data : undefined;
}

/** A lease found in the store with its age judged by the store's clock. */
export interface LeaseInfo {
  key: string;
  body: LockBody;
  lastModified: Date | undefined;
  /** Expired by the store's clock, relative to `storeNow`. */
  expired: boolean;
}

/** The kind a lease id starts with (`<kind>-…`; ids of older releases have none). */
export const kindOfLeaseKey = (key: string): LockKind | undefined =>
  /^locks\/(backup|restore|delete|maintenance)-/.exec(key)?.[1] as LockKind | undefined;

/**
 * Leases in the store, each judged expired or live against `storeNow` (a store timestamp). With
 * `kinds`, only leases of those kinds (and of no known kind) are read: a backup among a thousand
 * others reads none of theirs, only the listing.
 */
export async function listLeases(
  store: ObjectStore,
  storeNow: Date,
  signal?: AbortSignal,
  exceptKey?: string,
  kinds?: readonly LockKind[],
): Promise<LeaseInfo[]> {
  const out: LeaseInfo[] = [];
  for await (const o of store.list(LOCKS_PREFIX, { signal })) {
    if (!o.key.endsWith('.json') || o.key === exceptKey) continue;
    const kind = kindOfLeaseKey(o.key);
    if (kinds !== undefined && kind !== undefined && !kinds.includes(kind)) continue;
    const body = await readLock(store, o.key, signal);
    if (body === undefined) continue;
    out.push({ key: o.key, body, lastModified: o.lastModified, expired: isExpired(o, body, storeNow) });
  }
  return out;
}

const isExpired = (o: ObjectInfo, body: LockBody, storeNow: Date): boolean =>
  o.lastModified !== undefined && storeNow.getTime() - o.lastModified.getTime() > body.ttlMs;

/**
 * An object's lastModified as a listing reports it: S3 listings carry milliseconds where HEAD's
 * Last-Modified is cut to the second, and ages are compared with listed times.
 */
export async function listedTime(store: ObjectStore, key: string, fallback: Date, signal?: AbortSignal): Promise<Date> {
  for await (const o of store.list(key, { signal })) if (o.key === key && o.lastModified !== undefined) return o.lastModified;
  return (await store.stat(key, { signal }))?.lastModified ?? fallback;
}

/**
 * The store's current time: writes a probe object and reads its lastModified. Used to judge ages
 * of objects by the store's clock, never the local one.
 */
export async function storeTime(store: ObjectStore, clock: Clock, signal?: AbortSignal): Promise<Date> {
  const key = `${LOCKS_PREFIX}clock-${randomBytes(6).toString('hex')}.probe`;
  await store.put(key, Buffer.alloc(0), { signal });
  const t = await listedTime(store, key, clock.now(), signal);
  await store.delete([key]);
  return t;
}

/**
 * Takes a lease of `kind`. Writes it (only-if-absent, a fresh id), then lists the others: a live
 * conflicting one makes us remove ours and retry after a jittered backoff; expired ones (by the
 * store's clock) are removed on the way (they are harmless, and would otherwise pile up).
 */
export async function acquireLock(store: ObjectStore, options: LockOptions): Promise<StoreLock> {
  const clock = options.clock ?? systemClock;
  const ttlMs = options.ttlMs ?? 150_000;
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
        holder = { info: l, stale: age > l.body.ttlMs * 0.4 };
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
