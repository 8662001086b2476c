import type { ObjectStore } from '@convoy/objectstore';
import { systemClock, type Clock } from '../clock.js';
import { readHeader } from '../format/header.js';
import {
  ABANDONED_PREFIX,
  LAST_FULL_KEY,
  RUNS_PREFIX,
  VOLUMES_PREFIX,
  addMarkerKey,
  delMarkerKey,
  generationKey,
  parseBackupKey,
  manifestKey,
} from '../format/layout.js';
import { listSweepKeys, readSweepRecord } from '../gc/sweep-record.js';
import { listLeases, listedTime } from '../lease-records.js';
import { acquireLock } from '../lock.js';
import { listGenerations, loadLatestGeneration, readGeneration, type Generation } from '../refs/generation.js';
import type { ProgressCallback } from '../progress.js';
import { finishConsumed, mergePending, notV2, type MergeStats } from './merge.js';
import { scanPending } from './pending.js';
import { rebuildIndex } from './rebuild.js';
import { sweep, type SweepStats } from './sweep.js';

export interface MaintenanceOptions {
  store: ObjectStore;
  /** Also sweep: delete blocks found unreferenced twice, `graceMs` apart, and mark new ones (O(store)). */
  full?: boolean;
  /**
   * Run a full maintenance only if the store's last one (by any host: `gc/last-full.json`, judged
   * by the store's clock) is at least this old; else a quick one. How a fleet shares one daily full
   * run instead of each host doing its own.
   */
  fullIfOlderThanMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Maintenance lease lifetime (default 150 s). */
  lockTtlMs?: number;
  lockWaitMs?: number;
  /** Override the store header's grace period (tests, one-shot clean-up of a store nobody else uses). */
  graceMs?: number;
  /**
   * Rebuild the reference index from every backup (O(store)) instead of merging into it: the way
   * out of CONVOY_INDEX_CORRUPT (a lost or damaged generation or run).
   */
  rebuildIndex?: boolean;
  /** Index records held in memory before they are written as runs (default 1 M, ~40 MB). */
  budgetRecords?: number;
  /** Generations (and their runs) kept besides the newest, for readers of older ones. */
  keepGenerations?: number;
}

export interface MaintenanceResult {
  full: boolean;
  /** The index generation this run committed. */
  generation: number;
  merge: MergeStats;
  sweep?: SweepStats & { recordsPruned: number; orphanMapsDeleted: number; staleRemoved: number; leasesRemoved: number };
  /** Things found wrong that maintenance worked around (nothing is deleted because of them). */
  problems: string[];
}

/**
 * One maintenance run of a format v2 store (docs/format.md, "Maintenance"; docs/gc-safety.md).
 * Holds the maintenance lease, which excludes only another maintenance: backups, restores and
 * deletes go on meanwhile.
 * - quick (default): finishes the previous run's markers, merges pending adds and tombstones into
 *   a new index generation, compacts shards with too many runs. O(changes since the last run).
 * - full: also the GC sweep (sweep.ts), orphan block maps, what killed writers left (temp files,
 *   multipart uploads), expired leases and old sweep records. O(store): run it daily or weekly.
 */
export async function runMaintenance(options: MaintenanceOptions): Promise<MaintenanceResult> {
  const { store, signal } = options;
  const clock = options.clock ?? systemClock;
  let full = options.full === true;
  const opened = await readHeader(store, signal);
  if (opened.header.version !== 2 || opened.header.gc === undefined) throw notV2(store.location);
  const gcp = opened.header.gc;
  const graceMs = options.graceMs ?? gcp.graceMs;
  const lease = await acquireLock(store, {
    kind: 'maintenance',
    purpose: full || options.fullIfOlderThanMs !== undefined ? 'full maintenance' : 'maintenance',
    clock,
    signal,
    ttlMs: options.lockTtlMs,
    waitMs: options.lockWaitMs,
  });
  const problems: string[] = [];
  const progress = (blocksDone: number, bytesTransferred = 0): void =>
    options.onProgress?.({ phase: 'maintenance', bytesDone: 0, bytesTotal: 0, blocksDone, blocksTotal: 0, bytesTransferred });
  try {
    const storeNow = await listedTime(store, lease.key, clock.now(), signal);
    if (!full && options.fullIfOlderThanMs !== undefined) {
      const last = await lastFullTime(store, signal);
      full = last === undefined || storeNow.getTime() - last.getTime() >= options.fullIfOlderThanMs;
    }
    const leases = await listLeases(store, storeNow, signal);
    progress(0);
    const budgetRecords = options.budgetRecords ?? 1_000_000;
    const mergeIntoBase = async (): ReturnType<typeof mergePending> => {
      const base = await loadLatestGeneration(store, gcp.shardDigits, signal);
      await finishConsumed(store, base, signal); // a previous run that crashed after its commit
      const pending = await scanPending(store, signal);
      return mergePending({
        store,
        lease,
        base,
        pending,
        leases,
        storeNow,
        graceMs,
        full,
        budgetRecords,
        problems,
        signal,
        now: clock.now(),
      });
    };
    const { gen, stats } =
      options.rebuildIndex === true
        ? await rebuildIndex({ store, lease, shardDigits: gcp.shardDigits, budgetRecords, now: clock.now(), signal, onProgress: progress })
        : await mergeIntoBase();
    await finishConsumed(store, gen, signal);
    await pruneGenerations(store, gen, options.keepGenerations ?? 2, signal);
    const result: MaintenanceResult = { full, generation: gen.gen, merge: stats, problems };
    if (full) {
      const swept = await sweep({
        store,
        lease,
        gen,
        leases,
        storeNow,
        graceMs,
        listLagMs: gcp.listLagMs,
        clock,
        signal,
        markBudget: options.budgetRecords ?? 1_000_000,
        onProgress: (listed) => progress(listed),
      });
      const recordsPruned = await pruneRecords(store, storeNow, gcp.recordRetentionMs, signal);
      const orphanMapsDeleted = await deleteOrphanMaps(store, storeNow, graceMs, signal);
      await pruneAbandoned(store, storeNow, gcp.recordRetentionMs, signal);
      await deleteOrphanRuns(store, gen, storeNow, signal);
      const stale = (await store.cleanupStale?.({ olderThan: new Date(storeNow.getTime() - Math.max(graceMs, 3_600_000)), signal })) ?? {
        removed: 0,
      };
      let leasesRemoved = 0;
      for (const l of await listLeases(store, storeNow, signal)) {
        if (l.expired) {
          await store.delete([l.key]);
          leasesRemoved++;
        }
      }
      result.sweep = { ...swept, recordsPruned, orphanMapsDeleted, staleRemoved: stale.removed, leasesRemoved };
      lease.assertHeld();
      await store.put(
        LAST_FULL_KEY,
        Buffer.from(`${JSON.stringify({ at: storeNow.toISOString(), lease: lease.id, host: lease.body.host })}\n`),
      );
    }
    lease.assertHeld();
    return result;
  } finally {
    await lease.release();
  }
}

/** When the store's last full maintenance ended (store clock), or undefined if it never had one. */
export async function lastFullTime(store: ObjectStore, signal?: AbortSignal): Promise<Date | undefined> {
  for await (const o of store.list(LAST_FULL_KEY, { signal })) if (o.key === LAST_FULL_KEY) return o.lastModified ?? new Date(0);
  return undefined;
}

/**
 * Keeps the newest `keep` + 1 generations; deletes older ones and the runs only they used. A kept
 * generation other than the newest that cannot be read is useless (nothing reads it but a reader
 * racing this prune): it goes too, and runs only it used are left to the orphan-run clean-up.
 */
async function pruneGenerations(store: ObjectStore, newest: Generation, keep: number, signal?: AbortSignal): Promise<void> {
  const gens = (await listGenerations(store, signal)).filter((g) => g <= newest.gen);
  const kept = gens.slice(-1 - keep);
  const old = gens.slice(0, Math.max(0, gens.length - kept.length));
  const live = new Set<string>();
  for (const g of kept) {
    const gen = g === newest.gen ? newest : await readGeneration(store, g, signal).catch(() => undefined);
    if (gen === undefined) old.push(g);
    for (const runs of Object.values(gen?.shards ?? {})) for (const r of runs) live.add(r.key);
  }
  for (const g of old) {
    const gen = await readGeneration(store, g, signal).catch(() => undefined);
    const dead = Object.values(gen?.shards ?? {})
      .flat()
      .map((r) => r.key)
      .filter((k) => !live.has(k));
    for (let i = 0; i < dead.length; i += 1000) await store.delete(dead.slice(i, i + 1000));
    await store.delete([generationKey(g)]);
  }
}

/**
 * Runs no kept generation names, older than an hour: written by a maintenance that died before it
 * committed, or named only by a generation that was unreadable when pruned. O(runs).
 */
async function deleteOrphanRuns(store: ObjectStore, newest: Generation, storeNow: Date, signal?: AbortSignal): Promise<number> {
  const live = new Set<string>();
  for (const g of await listGenerations(store, signal)) {
    const gen = g === newest.gen ? newest : await readGeneration(store, g, signal).catch(() => undefined);
    if (gen === undefined && g > newest.gen) return 0; // a newer generation than ours: leave everything
    for (const runs of Object.values(gen?.shards ?? {})) for (const r of runs) live.add(r.key);
  }
  const dead: string[] = [];
  for await (const o of store.list(RUNS_PREFIX, { signal })) {
    if (!live.has(o.key) && o.lastModified !== undefined && storeNow.getTime() - o.lastModified.getTime() > 3_600_000) dead.push(o.key);
  }
  for (let i = 0; i < dead.length; i += 1000) await store.delete(dead.slice(i, i + 1000));
  return dead.length;
}

/** Deletes sweep records done longer than the retention ago (record first, its id list after). */
async function pruneRecords(store: ObjectStore, storeNow: Date, retentionMs: number, signal?: AbortSignal): Promise<number> {
  let n = 0;
  for (const key of await listSweepKeys(store, signal)) {
    const r = await readSweepRecord(store, key, signal);
    const lm = (await store.stat(key))?.lastModified;
    if (r?.state !== 'done' || lm === undefined || storeNow.getTime() - lm.getTime() <= retentionMs) continue;
    await store.delete([key]);
    await store.delete([r.doomedKey]);
    n++;
  }
  return n;
}

/** Set-aside markers of abandoned backups, kept as long as sweep records (a paused backup may still look). */
async function pruneAbandoned(store: ObjectStore, storeNow: Date, retentionMs: number, signal?: AbortSignal): Promise<void> {
  const old: string[] = [];
  for await (const o of store.list(ABANDONED_PREFIX, { signal })) {
    if (o.lastModified !== undefined && storeNow.getTime() - o.lastModified.getTime() > retentionMs) old.push(o.key);
  }
  for (let i = 0; i < old.length; i += 1000) await store.delete(old.slice(i, i + 1000));
}

/** Block maps without a manifest or a marker, older than the grace period: left by crashed backups. */
async function deleteOrphanMaps(store: ObjectStore, storeNow: Date, graceMs: number, signal?: AbortSignal): Promise<number> {
  // A backup's leftovers: its block map and, for a directory backup, its file index root.
  const maps = new Map<string, { volume: string; id: string; lastModified: Date | undefined; keys: string[] }>();
  const manifests = new Set<string>();
  for await (const o of store.list(VOLUMES_PREFIX, { signal })) {
    const k = parseBackupKey(o.key);
    if (k === undefined) continue;
    if (k.kind === 'manifest') {
      manifests.add(`${k.volume}/${k.id}`);
      continue;
    }
    const prev = maps.get(`${k.volume}/${k.id}`);
    const newest =
      prev?.lastModified === undefined || (o.lastModified !== undefined && o.lastModified > prev.lastModified)
        ? o.lastModified
        : prev.lastModified;
    maps.set(`${k.volume}/${k.id}`, { volume: k.volume, id: k.id, lastModified: newest, keys: [...(prev?.keys ?? []), o.key] });
  }
  let n = 0;
  for (const [name, m] of maps) {
    if (manifests.has(name)) continue;
    if (m.lastModified === undefined || storeNow.getTime() - m.lastModified.getTime() < graceMs) continue;
    if ((await store.stat(addMarkerKey(m.volume, m.id))) !== undefined || (await store.stat(delMarkerKey(m.volume, m.id))) !== undefined)
      continue;
    if ((await store.stat(manifestKey(m.volume, m.id))) !== undefined) continue;
    await store.delete(m.keys);
    n++;
  }
  return n;
}
