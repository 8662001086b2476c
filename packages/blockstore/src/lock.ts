import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { ObjectNotFoundError, type ObjectStore } from '@convoy/objectstore';
import { BlockstoreError } from './errors.js';
import { LOCKS_PREFIX, lockKey } from './format/layout.js';

export type LockKind = 'backup' | 'restore' | 'delete';

export interface LockOptions {
  kind: LockKind;
  volume?: string;
  /** Lock lifetime without refresh (default 150 s, as longhorn's backupstore). */
  ttlMs?: number;
  /** How long to keep trying while another party holds a conflicting lock (default 60 s). */
  waitMs?: number;
  host?: string;
  signal?: AbortSignal;
  /** Injected for tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface LockBody {
  id: string;
  kind: LockKind;
  volume: string | null;
  host: string;
  pid: number;
  created: string;
  ttlMs: number;
}

/** backup and restore share the store; delete (which runs GC) excludes everything else. */
const conflicts = (a: LockKind, b: LockKind): boolean => a === 'delete' || b === 'delete';

/**
 * A lock held in the store (docs/format.md, "Locks"). Refreshed in the background; work that
 * commits something calls `assertHeld()` first, so a holder that lost its lock (a long pause, the
 * store unreachable past the TTL) stops instead of committing under someone else's feet.
 */
export class StoreLock {
  readonly id: string;
  readonly kind: LockKind;
  readonly #store: ObjectStore;
  readonly #key: string;
  readonly #body: Buffer;
  readonly #ttlMs: number;
  #timer: NodeJS.Timeout | undefined;
  #lastRefresh: number;
  #lost: Error | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(store: ObjectStore, body: LockBody) {
    this.#store = store;
    this.id = body.id;
    this.kind = body.kind;
    this.#key = lockKey(body.id);
    this.#body = Buffer.from(JSON.stringify(body));
    this.#ttlMs = body.ttlMs;
    this.#lastRefresh = Date.now();
  }

  /** @internal */
  startRefresh(): void {
    this.#timer = setInterval(() => {
      this.#refreshing ??= this.refresh().finally(() => {
        this.#refreshing = undefined;
      });
    }, Math.max(10, Math.floor(this.#ttlMs / 5)));
    this.#timer.unref();
  }

  /** Rewrites the lock (its store time is its liveness). Fails if the lock was removed meanwhile. */
  async refresh(): Promise<void> {
    if (this.#lost !== undefined) return;
    try {
      if ((await this.#store.stat(this.#key)) === undefined) {
        this.#lost = new BlockstoreError('CONVOY_LOCK_LOST', `lock ${this.id} was removed from the store while held`, {
          hint: 'another process judged it expired; run the operation again',
        });
        return;
      }
      await this.#store.put(this.#key, this.#body);
      this.#lastRefresh = Date.now();
    } catch {
      // transient: assertHeld() decides once the TTL is at risk
    }
  }

  /** Throws if the lock may have expired or was removed: do not commit anything then. */
  assertHeld(): void {
    if (this.#lost !== undefined) throw this.#lost;
    const age = Date.now() - this.#lastRefresh;
    if (age > this.#ttlMs * 0.8) {
      throw new BlockstoreError('CONVOY_LOCK_LOST', `lock ${this.id} was not refreshed for ${Math.round(age / 1000)} s`, {
        hint: 'the store was unreachable for too long; run the operation again',
      });
    }
  }

  async release(): Promise<void> {
    clearInterval(this.#timer);
    await this.#refreshing;
    await this.#store.delete([this.#key]).catch(() => undefined); // an expired lock is harmless
  }
}

async function readLock(store: ObjectStore, key: string): Promise<LockBody | undefined> {
  try {
    const v = JSON.parse((await store.get(key)).toString('utf8')) as Partial<LockBody>;
    if (typeof v.kind !== 'string' || typeof v.id !== 'string') return undefined;
    return v as LockBody;
  } catch (err) {
    if (err instanceof ObjectNotFoundError || err instanceof SyntaxError) return undefined; // released meanwhile / torn
    throw err;
  }
}

/** Takes a lock of `kind`, waiting (with jittered backoff) while a conflicting one is held. */
export async function acquireLock(store: ObjectStore, options: LockOptions): Promise<StoreLock> {
  const ttlMs = options.ttlMs ?? 150_000;
  const deadline = Date.now() + (options.waitMs ?? 60_000);
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    const body: LockBody = {
      id: `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`,
      kind: options.kind,
      volume: options.volume ?? null,
      host: options.host ?? os.hostname(),
      pid: process.pid,
      created: new Date().toISOString(),
      ttlMs,
    };
    const key = lockKey(body.id);
    await store.put(key, Buffer.from(JSON.stringify(body)), { ifAbsent: true });
    const mine = (await store.stat(key))?.lastModified?.getTime() ?? Date.now();
    let holder: LockBody | undefined;
    for await (const o of store.list(LOCKS_PREFIX)) {
      if (o.key === key || !o.key.endsWith('.json')) continue;
      const other = await readLock(store, o.key);
      if (other === undefined) continue;
      const theirTtl = typeof other.ttlMs === 'number' && other.ttlMs > 0 ? other.ttlMs : ttlMs;
      if (o.lastModified !== undefined && mine - o.lastModified.getTime() > theirTtl) continue; // expired (store clock)
      if (conflicts(options.kind, other.kind)) {
        holder = other;
        break;
      }
    }
    if (holder === undefined) {
      const lock = new StoreLock(store, body);
      lock.startRefresh();
      return lock;
    }
    await store.delete([key]);
    if (Date.now() >= deadline) {
      throw new BlockstoreError(
        'CONVOY_STORE_LOCKED',
        `${store.location} is locked by a ${holder.kind} on ${holder.host} (pid ${holder.pid}, since ${holder.created}${holder.volume === null ? '' : `, volume ${holder.volume}`})`,
        { hint: 'wait for it to finish; a lock of a crashed process expires after its TTL', details: { holder } },
      );
    }
    await sleep(Math.min(2_000, 50 * 2 ** Math.min(attempt, 5)) * (0.5 + random()));
  }
}
