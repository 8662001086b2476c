import { readJsonRecord, type ObjectStore } from '@convoy/objectstore';
import { z } from 'zod';
import { confirmHolds } from '../confirm-writes.js';
import { BlockstoreError } from '../errors.js';
import { SWEEPS_PREFIX, sweepKey } from '../format/layout.js';

/**
 * A sweep record (docs/format.md, "GC"): every deletion of blocks in a v2 store is announced by
 * one, with its doomed ids in an id list beside it, *before* anything is deleted, and kept after it
 * is done for `recordRetentionMs`. Backups read them to learn whether a block they deduplicated
 * against may have gone (docs/gc-safety.md).
 */
export const sweepRecordSchema = z.object({
  format: z.literal('convoy-sweep'),
  version: z.literal(1),
  name: z.string().regex(/^[0-9a-z-]{1,80}$/),
  state: z.enum(['marked', 'sweeping', 'done']),
  /** Store time at which the doomed set was computed. */
  markedAt: z.string(),
  doomedKey: z.string(),
  doomed: z.number().int().nonnegative(),
  /** The maintenance lease that marked it, and the one sweeping it. */
  markedBy: z.string(),
  sweptBy: z.string().optional(),
  deleted: z.number().int().nonnegative().optional(),
  spared: z.number().int().nonnegative().optional(),
  doneAt: z.string().optional(),
});
export type SweepRecord = z.infer<typeof sweepRecordSchema>;

export const recordCorrupt = (key: string, reason: string): BlockstoreError =>
  new BlockstoreError('CONVOY_INDEX_CORRUPT', `GC record ${key} is corrupt: ${reason}`, {
    hint: 'nothing is deleted while it is unreadable; delete the record by hand only after `convoy-backup verify` is clean',
    details: { key },
  });

/** Reads and validates a sweep record; missing is `undefined` (pruned meanwhile), corrupt throws. */
export async function readSweepRecord(store: ObjectStore, key: string, signal?: AbortSignal): Promise<SweepRecord | undefined> {
  const r = await readJsonRecord(store, key, sweepRecordSchema, (reason) => recordCorrupt(key, reason), { signal });
  if (r !== undefined && sweepKey(r.name) !== key) throw recordCorrupt(key, `names record ${r.name}`);
  return r;
}

/**
 * Writes a record and reads it back: backups decide what to check from a record's state, so a
 * state change the store lost (it still shows `marked` while the sweep deletes) must stop the sweep.
 */
export async function writeSweepRecord(store: ObjectStore, r: SweepRecord, signal?: AbortSignal): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(r, null, 1)}\n`);
  await store.put(sweepKey(r.name), body, { signal });
  await confirmHolds(store, sweepKey(r.name), body, `the sweep stopped before its ${r.state} step`, signal);
}

/** Keys of every sweep record in the store. */
export async function listSweepKeys(store: ObjectStore, signal?: AbortSignal): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(SWEEPS_PREFIX, { signal })) if (o.key.endsWith('.json')) keys.push(o.key);
  return keys.sort();
}
