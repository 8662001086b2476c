import type { ObjectStore } from '@convoy/objectstore';
import type { Clock } from '../clock.js';
import { blockKey } from '../format/layout.js';
import { ID_BYTES, readRefPages, refCorrupt } from '../format/ref-file.js';
import { listLeases, storeTime } from '../lease-records.js';
import { listSweepKeys, readSweepRecord } from './sweep-record.js';

/**
 * The backup's side of GC safety (docs/gc-safety.md). A backup notes which sweeps were already
 * done when it started (their deletions happened before any of its `stat`s, which saw them). Before
 * it commits, after its add marker is in the store, it reads every other sweep record: a sweep
 * still `marked` will see the marker when it re-checks; one `sweeping` or `done` since may have
 * deleted a block the backup deduplicated against, so the backup waits until that sweep is over
 * and then checks those blocks, re-uploading any that are gone.
 */
export async function sweepsDoneAtStart(store: ObjectStore, signal?: AbortSignal): Promise<Set<string>> {
  const done = new Set<string>();
  for (const key of await listSweepKeys(store, signal)) {
    const r = await readSweepRecord(store, key, signal);
    if (r?.state === 'done') done.add(key);
  }
  return done;
}

export interface GuardOptions {
  store: ObjectStore;
  /** The backup's sorted unique ids (an id-list body). */
  ids: Buffer;
  /** Records done when the backup started (sweepsDoneAtStart). */
  doneAtStart: ReadonlySet<string>;
  /** True when the backup ran longer than half the record retention: check every block. */
  checkAll: boolean;
  clock: Clock;
  /** Re-uploads a block that is gone (from the source). */
  restore: (idHex: string) => Promise<void>;
  signal?: AbortSignal;
  /** Called while waiting for a sweep to finish. */
  onWait?: (record: string) => void;
}

export interface GuardResult {
  checked: number;
  reuploaded: number;
  sweepsWaitedFor: number;
}

export async function guardCommit(o: GuardOptions): Promise<GuardResult> {
  const { store, signal } = o;
  const sig = { signal };
  const toCheck: Buffer[] = [];
  let waited = 0;
  if (o.checkAll) {
    for (let i = 0; i < o.ids.length; i += ID_BYTES) toCheck.push(o.ids.subarray(i, i + ID_BYTES));
  } else {
    for (const key of await listSweepKeys(store, signal)) {
      if (o.doneAtStart.has(key)) continue;
      let r = await readSweepRecord(store, key, signal);
      if (r === undefined || r.state === 'marked') continue; // a marked sweep re-checks after our marker is in
      const hits = await intersect(store, r.doomedKey, o.ids, signal);
      if (hits === undefined) {
        // Pruned together with its record (only records done long before we started are pruned).
        if ((await readSweepRecord(store, key, signal)) === undefined) continue;
        throw refCorrupt(r.doomedKey, 'the object is missing');
      }
      if (hits.length === 0) continue;
      // It may still be deleting: wait until it is done or its sweeper's lease is dead.
      while (r !== undefined && r.state === 'sweeping') {
        const now = await storeTime(store, o.clock, signal);
        const sweeper = r.sweptBy;
        const alive = (await listLeases(store, now, signal, undefined, ['maintenance'])).some((l) => l.body.id === sweeper && !l.expired);
        if (!alive) break;
        waited++;
        o.onWait?.(key);
        await o.clock.sleep(2_000, signal);
        r = await readSweepRecord(store, key, signal);
      }
      toCheck.push(...hits);
    }
  }
  let reuploaded = 0;
  for (const id of toCheck) {
    const hex = id.toString('hex');
    if ((await store.stat(blockKey(hex), sig)) === undefined) {
      await o.restore(hex);
      reuploaded++;
    }
  }
  return { checked: toCheck.length, reuploaded, sweepsWaitedFor: waited };
}

/** Ids present in both a stored id list and a sorted id-list body (a streaming merge); undefined if the list is gone. */
export async function intersect(store: ObjectStore, key: string, ids: Buffer, signal?: AbortSignal): Promise<Buffer[] | undefined> {
  const out: Buffer[] = [];
  let seen = false;
  let j = 0;
  const n = ids.length / ID_BYTES;
  for await (const page of readRefPages(store, key, 'ids', { missingOk: true, signal })) {
    seen = true;
    for (let i = 0; i < page.length && j < n; i += ID_BYTES) {
      const d = page.subarray(i, i + ID_BYTES);
      while (j < n && Buffer.compare(ids.subarray(j * ID_BYTES, (j + 1) * ID_BYTES), d) < 0) j++;
      if (j < n && ids.subarray(j * ID_BYTES, (j + 1) * ID_BYTES).equals(d)) out.push(Buffer.from(d));
    }
  }
  if (!seen && (await store.stat(key, { signal })) === undefined) return undefined;
  return out;
}
