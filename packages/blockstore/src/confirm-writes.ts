import { ObjectNotFoundError, type ObjectStore } from '@convoy/objectstore';
import { BlockstoreError } from './errors.js';
import { forEachIndex } from './pool.js';

/**
 * Checks with a HEAD each that the store holds every object a backup wrote, before the backup
 * commits (and its manifest after). A store that answers a PUT with success and keeps nothing (a
 * lying server, a broken proxy or cache in front of it) would otherwise make the backup report
 * success with data missing — and a lost add marker lets full maintenance sweep the blocks of a
 * committed backup. S3 (since 2020), radosgw, MinIO and the filesystem are read-after-write
 * consistent for new objects, so a missing object here is a lost write, never lag. Nothing is
 * healed silently: the store lost an acknowledged write, and the user must learn it.
 * Cost: one HEAD per object written (2 MiB blocks: a HEAD per 2 MiB uploaded), 16 at a time.
 */
export async function confirmWritten(store: ObjectStore, keys: readonly string[], what: string, signal?: AbortSignal): Promise<void> {
  const missing: string[] = [];
  const sig = { signal };
  await forEachIndex(
    keys.length,
    16,
    async (i) => {
      const key = keys[i] as string;
      if ((await store.stat(key, sig)) === undefined) missing.push(key);
    },
    signal,
  );
  if (missing.length === 0) return;
  missing.sort();
  throw writeLost(store, missing, what);
}

/**
 * For an object written over an older one (a sweep record changing state), where a HEAD would
 * find the old one: reads it back and compares the bytes. One GET of a small object.
 */
export async function confirmHolds(store: ObjectStore, key: string, body: Buffer, what: string, signal?: AbortSignal): Promise<void> {
  const held = await store.get(key, { signal }).catch((err: unknown) => {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  });
  if (held === undefined || !held.equals(body)) throw writeLost(store, [key], what);
}

const writeLost = (store: ObjectStore, missing: readonly string[], what: string): BlockstoreError =>
  new BlockstoreError(
    'CONVOY_STORE_WRITE_LOST',
    `${store.location} acknowledged writing ${missing.length === 1 ? '' : `${missing.length} objects, e.g. `}${missing[0]} but does not hold it; ${what}`,
    {
      hint: 'the store, or a proxy or cache in front of it, loses writes it acknowledged: check it, then run the command again (what is missing is written again)',
      details: { location: store.location, missing: missing.slice(0, 20) },
    },
  );
