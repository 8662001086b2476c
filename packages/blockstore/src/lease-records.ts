// The leases in a store as records (docs/format.md, "Leases"): their schema, who conflicts with
// whom, reading and listing them judged by the store's clock. lock.ts takes and holds one.
import { randomBytes } from 'node:crypto';
import { ObjectNotFoundError, parseJsonBytes, type ObjectInfo, type ObjectStore } from '@convoy/objectstore';
import { z } from 'zod';
import type { Clock } from './clock.js';
import { LOCKS_PREFIX } from './format/layout.js';

/**
 * - `backup`, `restore`: shared leases; they exclude only `delete`.
 * - `delete`: format v1's delete + GC, which excludes everything; a v2 upgrade takes it too, so
 *   format-v1 programs wait for it instead of writing into a store being converted.
 * - `maintenance`: format v2's maintenance; excludes only another maintenance (and `delete`).
 */
export type LockKind = 'backup' | 'restore' | 'delete' | 'maintenance';

export const lockBody = z.object({
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

export const conflicts = (a: LockKind, b: LockKind): boolean =>
  a === 'delete' || b === 'delete' || (a === 'maintenance' && b === 'maintenance');

/** The TTL of a lease taken without one (lock.ts), and of an unreadable lease record. */
export const DEFAULT_LEASE_TTL_MS = 150_000;

/**
 * A lease read from the store: its body; undefined if it was released meanwhile; or, for a record
 * that is not a lease body (unparsable, or not the schema), why. Leases are written whole (atomic
 * put), so such a record is damage, and damage is never read as "no lease" (listLeases).
 */
export async function readLock(store: ObjectStore, key: string, signal?: AbortSignal): Promise<LockBody | { corrupt: string } | undefined> {
  let bytes: Buffer;
  try {
    bytes = await store.get(key, { signal });
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined; // released meanwhile
    throw err;
  }
  let v: unknown;
  try {
    v = parseJsonBytes(bytes);
  } catch {
    return { corrupt: `not JSON (${bytes.length} bytes)` };
  }
  const parsed = lockBody.safeParse(v);
  return parsed.success
    ? parsed.data
    : { corrupt: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') };
}

/**
 * What an unreadable lease record stands for: a holder we cannot name, of the kind its key says
 * (or `delete`, which conflicts with everything, when the key says none), live for the default
 * TTL from the record's lastModified by the store's clock. So a damaged lease of a running
 * backup, restore or maintenance still keeps what it kept out; once expired, it is removed like
 * any dead lease.
 */
function unreadableLease(key: string, why: string): LockBody {
  const id = key.slice(LOCKS_PREFIX.length, -'.json'.length);
  return {
    id: id.slice(0, 80) || 'unreadable',
    kind: kindOfLeaseKey(key) ?? 'delete',
    volume: null,
    purpose: `unreadable lease record ${key} (${why.slice(0, 200)})`,
    host: 'unknown',
    pid: 0,
    created: 'unknown',
    ttlMs: DEFAULT_LEASE_TTL_MS,
  };
}

/** A lease found in the store with its age judged by the store's clock. */
export interface LeaseInfo {
  key: string;
  /** For an unreadable record, what it stands for (unreadableLease). */
  body: LockBody;
  /** Set when the record is not a lease body: why. */
  corrupt?: string;
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
    const read = await readLock(store, o.key, signal);
    if (read === undefined) continue;
    const corrupt = 'corrupt' in read ? read.corrupt : undefined;
    const body = corrupt === undefined ? (read as LockBody) : unreadableLease(o.key, corrupt);
    out.push({
      key: o.key,
      body,
      lastModified: o.lastModified,
      expired: isExpired(o, body, storeNow),
      ...(corrupt === undefined ? {} : { corrupt }),
    });
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
