import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '@convoy/objectstore';
import { confirmWritten } from '../confirm-writes.js';
import type { Clock } from '../clock.js';
import { blockIdFromKey, blockKey, doomedKey } from '../format/layout.js';
import { ID_BYTES, encodeRefFile, readRefPages } from '../format/ref-file.js';
import { listSweepKeys, readSweepRecord, writeSweepRecord, type SweepRecord } from '../gc/sweep-record.js';
import type { LeaseInfo } from '../lease-records.js';
import type { StoreLock } from '../lock.js';
import { shardsOf, type Generation } from '../refs/generation.js';
import { forEachIndex } from '../pool.js';
import { RecordCursor, mergeCursors } from '../refs/runs.js';
import { scanPending } from './pending.js';

export interface SweepStats {
  /** Sweep records whose doomed blocks were re-checked and deleted in this run. */
  recordsSwept: number;
  blocksDeleted: number;
  /** Doomed blocks found referenced again (a backup used them since) and kept. */
  blocksSpared: number;
  /** Unreferenced blocks found now; deleted by a later full maintenance, after the grace period. */
  blocksMarked: number;
  blocksListed: number;
  /** Why due sweeps were put off (e.g. a restore is running), if they were. */
  postponed?: string;
}

export interface SweepContext {
  store: ObjectStore;
  lease: StoreLock;
  gen: Generation;
  leases: readonly LeaseInfo[];
  storeNow: Date;
  graceMs: number;
  listLagMs: number;
  clock: Clock;
  signal: AbortSignal | undefined;
  /** Newly doomed ids held before they are written as a record (bounds memory). */
  markBudget: number;
  onProgress?: (blocksListed: number, blocksDeleted: number) => void;
}

/**
 * Full maintenance's GC (docs/gc-safety.md):
 * 1. Sweep records marked at least `graceMs` ago become `sweeping` (announced before anything is
 *    read), then, after the listing lag, the pending markers are read afresh.
 * 2. One pass per shard, in id order: the shard's index runs, the pending adds, the block objects
 *    listed under the shard and the due doomed ids are merged. A due doomed block is deleted only
 *    if the index and every pending marker still say nobody references it and the object was not
 *    written again since it was marked. An unreferenced block older than the grace period that no
 *    record holds yet is marked for a later run.
 * 3. Due records become `done`; the newly marked ids go into a new `marked` record.
 * Memory: a window of shards' block listings and doomed ids, the pending adds' ids, and at most
 * `markBudget` newly doomed ids (more are written as several records).
 */
export async function sweep(c: SweepContext): Promise<SweepStats> {
  const { store, signal } = c;
  const sig = { signal };
  const stats: SweepStats = { recordsSwept: 0, blocksDeleted: 0, blocksSpared: 0, blocksMarked: 0, blocksListed: 0 };
  const records: { key: string; r: SweepRecord }[] = [];
  for (const key of await listSweepKeys(store, signal)) {
    const r = await readSweepRecord(store, key, signal);
    if (r !== undefined && r.state !== 'done') records.push({ key, r });
  }
  const restoring = c.leases.filter((l) => !l.expired && l.body.kind === 'restore');
  const due = records.filter(({ r }) => r.state === 'sweeping' || c.storeNow.getTime() - Date.parse(r.markedAt) >= c.graceMs);
  if (restoring.length > 0 && due.length > 0) {
    stats.postponed = `${restoring.length} restore(s) running (${restoring.map((l) => `${l.body.host} pid ${l.body.pid}`).join(', ')}); blocks are deleted by a later full maintenance`;
    due.length = 0;
  }
  for (const d of due) {
    d.r = { ...d.r, state: 'sweeping', sweptBy: c.lease.id };
    await c.lease.keepAlive();
    await writeSweepRecord(store, d.r, signal);
  }
  if (due.length > 0 && c.listLagMs > 0) await c.clock.sleep(c.listLagMs, signal);

  // Every id a backup in flight (or not yet merged) references, read after the records said "sweeping".
  const pending = await scanPending(store, signal);
  const inFlight = new Set<string>();
  for (const m of pending.adds.values()) {
    for await (const page of readRefPages(store, m.key, 'ids', { ...sig, missingOk: true })) {
      for (let i = 0; i < page.length; i += ID_BYTES) inFlight.add(page.toString('hex', i, i + ID_BYTES));
    }
  }
  // Doomed ids of open records, streamed window by window in id order: memory holds one window's.
  const dueLists = records.map(({ r }) => ({
    r,
    due: due.some((d) => d.r.name === r.name),
    cursor: RecordCursor.ofIdList(store, r.doomedKey, 1, signal),
  }));
  const marked: Buffer[] = [];
  let markedTotal = 0;
  const writeMarked = async (): Promise<void> => {
    if (marked.length === 0) return;
    const name = `${c.storeNow.getTime().toString(36)}-${randomBytes(4).toString('hex')}`;
    const ids = Buffer.concat(marked.sort(Buffer.compare));
    await c.lease.keepAlive();
    await store.put(doomedKey(name), encodeRefFile('ids', ids), sig);
    await confirmWritten(store, [doomedKey(name)], 'the sweep recorded nothing and deletes nothing', signal);
    await writeSweepRecord(
      store,
      {
        format: 'convoy-sweep',
        version: 1,
        name,
        state: 'marked',
        markedAt: c.storeNow.toISOString(),
        doomedKey: doomedKey(name),
        doomed: marked.length,
        markedBy: c.lease.id,
      },
      signal,
    );
    markedTotal += marked.length;
    marked.length = 0;
  };
  let batch: string[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const keys = batch;
    batch = [];
    await c.lease.keepAlive(); // a sweeper that lost its lease deletes nothing more
    await store.delete(keys, sig);
    stats.blocksDeleted += keys.length;
    c.onProgress?.(stats.blocksListed, stats.blocksDeleted);
  };
  const digits = c.gen.shardDigits;
  const shards = shardsOf(digits);
  const WINDOW = 8;
  for (let w = 0; w < shards.length; w += WINDOW) {
    const window = shards.slice(w, w + WINDOW);
    const last = window.at(-1) as string;
    await c.lease.keepAlive();
    const onRecord = new Set<string>(); // ids held by records not due: not marked twice
    const dueDoomed = new Map<string, Date>(); // id -> markedAt of the (earliest) due record holding it
    for (const l of dueLists) {
      while (
        (await l.cursor.ready()) &&
        l.cursor
          .id()
          .toString('hex', 0, Math.ceil(digits / 2))
          .slice(0, digits) <= last
      ) {
        const hex = l.cursor.id().toString('hex');
        if (!l.due) onRecord.add(hex);
        else if (!dueDoomed.has(hex)) dueDoomed.set(hex, new Date(l.r.markedAt));
        l.cursor.next();
      }
    }
    await forEachIndex(
      window.length,
      WINDOW,
      async (k) => {
        const shard = window[k] as string;
        const listed = new Map<string, Date | undefined>();
        for await (const o of store.list(blockPrefix(shard), sig)) {
          const hex = blockIdFromKey(o.key);
          if (hex !== undefined && hex.startsWith(shard)) listed.set(hex, o.lastModified);
        }
        stats.blocksListed += listed.size;
        const referenced = new Set<string>();
        const runs = c.gen.shards[shard] ?? [];
        if (runs.length > 0 && listed.size > 0) {
          await mergeCursors(
            runs.map((r) => RecordCursor.ofRun(store, r, signal)),
            (id, sum) => {
              if (sum !== 0) referenced.add(id.toString('hex')); // negative: damaged, kept
            },
          );
        }
        for (const [hex, lm] of [...listed.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
          if (referenced.has(hex) || inFlight.has(hex)) {
            if (dueDoomed.has(hex)) stats.blocksSpared++;
            continue;
          }
          const markedAt = dueDoomed.get(hex);
          if (markedAt !== undefined) {
            if (lm !== undefined && lm.getTime() > markedAt.getTime()) {
              stats.blocksSpared++; // written again since it was marked: a backup uploaded it anew
              continue;
            }
            batch.push(blockKey(hex));
            if (batch.length >= 1000) await flush();
          } else if (!onRecord.has(hex) && (lm === undefined || c.storeNow.getTime() - lm.getTime() >= c.graceMs)) {
            marked.push(Buffer.from(hex, 'hex'));
          }
        }
        c.onProgress?.(stats.blocksListed, stats.blocksDeleted);
      },
      signal,
    );
    if (marked.length >= c.markBudget) await writeMarked(); // windows come in id order: each record is sorted
  }
  await flush();
  for (const d of due) {
    await c.lease.keepAlive();
    await writeSweepRecord(store, { ...d.r, state: 'done', doneAt: c.clock.now().toISOString() }, signal);
    stats.recordsSwept++;
  }
  await writeMarked();
  stats.blocksMarked = markedTotal;
  return stats;
}

/** Listing prefix of a shard's block objects (`blocks/<h0:2>/<h2:4>/…`). */
export function blockPrefix(shard: string): string {
  if (shard.length <= 2) return `blocks/${shard}`;
  return `blocks/${shard.slice(0, 2)}/${shard.slice(2)}`;
}
