import type { ObjectStore } from '@convoy/objectstore';
import { confirmWritten } from '../confirm-writes.js';
import { BlockstoreError } from '../errors.js';
import { abandonedKey, blockMapKey, filesKey, manifestKey, parseMarkerKey } from '../format/layout.js';
import { BlockMap } from '../format/block-map.js';
import { readBlockMap, readManifest } from '../format/manifest.js';
import { readRefPages } from '../format/ref-file.js';
import type { LeaseInfo } from '../lease-records.js';
import type { StoreLock } from '../lock.js';
import { commitGeneration, type Generation, type RunRef } from '../refs/generation.js';
import { forEachIndex } from '../pool.js';
import { MAX_RUNS, mergeRuns, pickMerge } from './compact.js';
import { DeltaBuilder } from './delta.js';
import type { PendingScan } from './pending.js';

export interface MergeStats {
  /** Committed backups whose references were added to the index. */
  adds: number;
  /** Deleted backups whose references were subtracted. */
  deletes: number;
  /** Add markers of backups that never committed (their process died), removed. */
  abandoned: number;
  /** Backups still being made (their markers stay pending). */
  inFlight: number;
  runsWritten: number;
  runsMerged: number;
  recordsWritten: number;
  recordsMerged: number;
}

/** Stats of a merge (or rebuild) that did nothing yet; `adds` given where the count is known up front. */
export function newMergeStats(adds = 0): MergeStats {
  return { adds, deletes: 0, abandoned: 0, inFlight: 0, runsWritten: 0, runsMerged: 0, recordsWritten: 0, recordsMerged: 0 };
}

export interface MergeContext {
  store: ObjectStore;
  lease: StoreLock;
  base: Generation;
  pending: PendingScan;
  leases: readonly LeaseInfo[];
  storeNow: Date;
  graceMs: number;
  full: boolean;
  budgetRecords: number;
  problems: string[];
  signal: AbortSignal | undefined;
  now: Date;
}

/**
 * Merges pending markers into a new index generation (docs/format.md, "Maintenance"): adds of
 * committed backups (+1 per distinct id), tombstones (−1 per distinct id of the backup's block
 * map; an add and a delete both still pending cancel out), then compacts shards that have too many
 * runs (all of them with `full`). Commits the generation; the caller then finishes the consumed
 * markers (finishConsumed). Cost: O(changes) requests, plus the amortised compaction.
 */
export async function mergePending(c: MergeContext): Promise<{ gen: Generation; stats: MergeStats }> {
  const { store, signal } = c;
  const sig = { signal };
  const gen = c.base.gen + 1;
  const delta = new DeltaBuilder(store, gen, c.base.shardDigits, c.budgetRecords, signal);
  const consumed: string[] = [];
  const stats = newMergeStats();

  for (const [name, del] of c.pending.dels) {
    const add = c.pending.adds.get(name);
    // A delete interrupted before it removed the manifest: finish it.
    await store.delete([manifestKey(del.volume, del.id)], sig);
    if (add !== undefined) {
      consumed.push(add.key); // never merged: +1 and −1 cancel
    } else if ((await store.stat(blockMapKey(del.volume, del.id), sig)) !== undefined) {
      const ids = await backupIds(store, del.volume, del.id, signal).catch((err: unknown) => {
        c.problems.push(`block map of deleted backup ${name} is unreadable (${(err as Error).message}); its blocks stay referenced`);
        return undefined;
      });
      if (ids !== undefined) await delta.addIds(ids, -1);
    } else {
      c.problems.push(`block map of deleted backup ${name} is missing; its blocks stay referenced until a full rebuild`);
    }
    consumed.push(del.key);
    stats.deletes++;
  }
  for (const [name, add] of c.pending.adds) {
    if (c.pending.dels.has(name)) continue;
    await c.lease.keepAlive();
    if ((await store.stat(manifestKey(add.volume, add.id), sig)) !== undefined) {
      for await (const page of readRefPages(store, add.key, 'ids', sig)) await delta.addIds(page, +1);
      consumed.push(add.key);
      stats.adds++;
      continue;
    }
    const age = add.lastModified === undefined ? 0 : c.storeNow.getTime() - add.lastModified.getTime();
    const owner = c.leases.find((l) => !l.expired && l.body.kind === 'backup' && l.body.volume === add.volume && l.body.backup === add.id);
    if (owner !== undefined || age < c.graceMs) {
      stats.inFlight++;
      continue;
    }
    if (await dropAbandoned(store, add.key, add.volume, add.id, signal)) stats.abandoned++;
    else {
      // It committed just now: merge it next time.
      stats.inFlight++;
    }
  }
  await delta.flush();
  stats.runsWritten += [...delta.runs.values()].reduce((n, l) => n + l.length, 0);
  stats.recordsWritten += delta.recordsWritten;

  const shards: Record<string, RunRef[]> = {};
  const keys = [...new Set([...Object.keys(c.base.shards), ...delta.runs.keys()])].sort();
  await forEachIndex(
    keys.length,
    16,
    async (k) => {
      const shard = keys[k] as string;
      let runs = [...(c.base.shards[shard] ?? []), ...(delta.runs.get(shard) ?? [])];
      for (let pick = pickMerge(runs, c.full); pick.length > 0; pick = c.full ? [] : pickMerge(runs, false)) {
        await c.lease.keepAlive();
        const merged = await mergeRuns(store, shard, gen, pick, signal);
        // A partial merge may sum below zero (a −1 whose +1 is in a run not merged): only a merge of
        // every run of the shard says the index is damaged.
        if (merged.negative > 0 && pick.length === runs.length)
          c.problems.push(
            `shard ${shard}: ${merged.negative} ids have a negative reference count (a delete was counted twice?); they are kept`,
          );
        stats.runsMerged += pick.length;
        stats.recordsMerged += merged.recordsRead;
        const picked = new Set(pick.map((r) => r.key));
        runs = runs.filter((r) => !picked.has(r.key));
        if (merged.run !== undefined) {
          runs.push(merged.run);
          stats.runsWritten++;
          stats.recordsWritten += merged.run.records;
        }
        if (runs.length <= MAX_RUNS) break;
      }
      if (runs.length > 0) shards[shard] = runs;
    },
    signal,
  );
  const next: Generation = {
    ...c.base,
    gen,
    created: c.now.toISOString(),
    shards: Object.fromEntries(Object.entries(shards).sort(([a], [b]) => a.localeCompare(b))),
    consumed,
  };
  await c.lease.keepAlive();
  await commitGeneration(store, next, signal);
  return { gen: next, stats };
}

/** The distinct ids of a backup: its add marker if still there, else its block map. */
async function backupIds(store: ObjectStore, volume: string, id: string, signal?: AbortSignal): Promise<Buffer> {
  const m = await readManifest(store, volume, id, signal).catch(() => undefined);
  if (m !== undefined) return (await readBlockMap(store, m, signal)).uniqueIds();
  // The manifest is gone (deleted): the map's own format checks are what is left.
  const key = blockMapKey(volume, id);
  const bytes = await store.get(key, { signal });
  return (await BlockMap.decode(key, bytes)).uniqueIds();
}

/**
 * Sets aside the add marker of a backup that never committed: a copy under refs/abandoned/ first,
 * then the pending marker goes, then the manifest is looked for again. If it appeared meanwhile
 * (the backup was only slow), the marker is put back and the copy removed. The backup, after its
 * manifest, finds either its marker, or the copy (it then withdraws), or neither (merged: fine).
 * docs/gc-safety.md, "Abandoned markers". True if it stayed set aside.
 */
async function dropAbandoned(store: ObjectStore, key: string, volume: string, id: string, signal?: AbortSignal): Promise<boolean> {
  const sig = { signal };
  const body = await store.get(key, sig);
  await store.put(abandonedKey(volume, id), body, sig);
  // A lost copy would let a backup that was only paused commit unindexed: its blocks swept.
  await confirmWritten(store, [abandonedKey(volume, id)], `the add marker of ${volume}/${id} was not set aside`, signal);
  await store.delete([key], sig);
  if ((await store.stat(manifestKey(volume, id), sig)) === undefined) return true;
  await store.put(key, body, sig);
  await confirmWritten(store, [key], `the add marker of committed backup ${volume}/${id} was not put back`, signal);
  await store.delete([abandonedKey(volume, id)], sig);
  return false;
}

/**
 * After a generation committed: removes the markers it consumed and, for deleted backups, the
 * manifest and block map. Idempotent: run again for the newest generation after a crash.
 */
export async function finishConsumed(store: ObjectStore, gen: Generation, signal?: AbortSignal): Promise<void> {
  const sig = { signal };
  const keys: string[] = [];
  for (const key of gen.consumed) {
    const k = parseMarkerKey(key);
    if (k === undefined) continue;
    if (k.kind === 'del') keys.push(manifestKey(k.volume, k.id), blockMapKey(k.volume, k.id), filesKey(k.volume, k.id));
  }
  // Data objects first, markers last: a crash in between leaves markers that say what to finish.
  for (let i = 0; i < keys.length; i += 1000) await store.delete(keys.slice(i, i + 1000), sig);
  const markers = gen.consumed.filter((k) => parseMarkerKey(k) !== undefined);
  for (let i = 0; i < markers.length; i += 1000) await store.delete(markers.slice(i, i + 1000), sig);
}

export const notV2 = (location: string): BlockstoreError =>
  new BlockstoreError('CONVOY_FORMAT_UNSUPPORTED', `${location} is a format v1 store: maintenance needs format v2`, {
    hint: 'run `convoy-backup upgrade STORE` (format v1 stores collect garbage on every delete)',
  });
