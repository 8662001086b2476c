import type { ObjectStore } from '@convoy/objectstore';
import { BlockstoreError } from '../errors.js';
import { BlockMap } from '../format/block-map.js';
import { blockMapKey } from '../format/layout.js';
import { readBlockMap, readManifest } from '../format/manifest.js';
import { listAllBackups } from '../list.js';
import type { StoreLock } from '../lock.js';
import { commitGeneration, listGenerations, readLatestPointer, type Generation, type RunRef } from '../refs/generation.js';
import { forEachIndex } from '../pool.js';
import { mergeRuns } from './compact.js';
import { DeltaBuilder } from './delta.js';
import { newMergeStats, type MergeStats } from './merge.js';
import { scanPending } from './pending.js';

/**
 * Rebuilds the reference index from the backups themselves (docs/format.md, "Reference index"):
 * +1 for each distinct id of every committed backup's block map, then the pending markers that
 * arrived meanwhile (a tombstone of a counted backup subtracts it; an add marker of a counted one
 * is consumed). O(store), under the maintenance lease; backups go on meanwhile. A backup whose
 * block map cannot be read at all stops the rebuild (its blocks would be collected): delete or
 * repair it first.
 */
export async function rebuildIndex(c: {
  store: ObjectStore;
  lease: StoreLock;
  shardDigits: number;
  budgetRecords: number;
  now: Date;
  signal: AbortSignal | undefined;
  onProgress?: (backups: number) => void;
}): Promise<{ gen: Generation; stats: MergeStats }> {
  const { store, signal } = c;
  const sig = { signal };
  const gen =
    Math.max((await listGenerations(store, signal)).at(-1) ?? 0, (await readLatestPointer(store, signal).catch(() => undefined)) ?? 0) + 1;
  const delta = new DeltaBuilder(store, gen, c.shardDigits, c.budgetRecords, signal);
  const counted = new Set<string>();
  const unreadable: string[] = [];
  const idsOf = async (volume: string, id: string): Promise<Buffer> => {
    const m = await readManifest(store, volume, id, signal).catch(() => undefined);
    if (m !== undefined) return (await readBlockMap(store, m, signal)).uniqueIds();
    const key = blockMapKey(volume, id);
    return (await BlockMap.decode(key, await store.get(key, sig))).uniqueIds();
  };
  for (const ref of await listAllBackups(store, signal)) {
    await c.lease.keepAlive();
    try {
      await delta.addIds(await idsOf(ref.volume, ref.id), +1);
      counted.add(`${ref.volume}/${ref.id}`);
    } catch (err) {
      if ((err as { code?: string }).code === undefined && !(err instanceof Error)) throw err;
      unreadable.push(`${ref.volume}/${ref.id}: ${(err as Error).message}`);
    }
    c.onProgress?.(counted.size);
  }
  if (unreadable.length > 0) {
    throw new BlockstoreError(
      'CONVOY_INDEX_CORRUPT',
      `cannot rebuild the reference index: ${unreadable.length} backup(s) cannot be read (${unreadable.slice(0, 3).join('; ')})`,
      {
        hint: 'repair them (`convoy-backup repair`) or delete them, then rebuild again; nothing was changed',
        details: { unreadable },
      },
    );
  }
  const consumed: string[] = [];
  const stats = newMergeStats(counted.size);
  const pending = await scanPending(store, signal);
  for (const [name, del] of pending.dels) {
    if (counted.has(name)) await delta.addIds(await idsOf(del.volume, del.id), -1);
    consumed.push(del.key);
    stats.deletes++;
  }
  for (const [name, add] of pending.adds) {
    if (counted.has(name)) consumed.push(add.key);
    else stats.inFlight++;
  }
  await delta.flush();
  const shards: Record<string, RunRef[]> = {};
  const keys = [...delta.runs.keys()].sort();
  await forEachIndex(
    keys.length,
    16,
    async (k) => {
      const shard = keys[k] as string;
      const runs = delta.runs.get(shard) ?? [];
      const merged = runs.length > 1 ? (await mergeRuns(store, shard, gen, runs, signal)).run : runs[0];
      if (merged !== undefined) shards[shard] = [merged];
    },
    signal,
  );
  stats.runsWritten = Object.keys(shards).length;
  const next: Generation = {
    format: 'convoy-ref-index',
    version: 1,
    gen,
    created: c.now.toISOString(),
    shardDigits: c.shardDigits,
    shards: Object.fromEntries(Object.entries(shards).sort(([a], [b]) => a.localeCompare(b))),
    consumed,
  };
  await c.lease.keepAlive();
  await commitGeneration(store, next, signal);
  return { gen: next, stats };
}
