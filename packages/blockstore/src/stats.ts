// `convoy-backup stats`: per volume and in total, how much the backups hold (logical bytes), how
// much the store keeps for them (stored bytes of the distinct objects they reference), the
// deduplication ratio between the two, and the number of objects. One listing of blocks/ for the
// sizes, one block map per backup.
import type { ObjectStore } from '@convoy/objectstore';
import { readHeader } from './format/header.js';
import { readBlockMap } from './format/manifest.js';
import { listManifests } from './list.js';

export interface UsageStats {
  backups: number;
  /** What the backups restore to, summed: each backup's volume size (block images) or tree bytes (directories). */
  logicalBytes: number;
  /** Bytes of the distinct stored objects (blocks, packs) those backups reference. */
  storedBytes: number;
  /** Distinct stored objects referenced. */
  objects: number;
  /** logicalBytes / storedBytes (0 when nothing is stored). */
  dedupRatio: number;
  /** Referenced objects the listing did not find (verify says more). */
  missingObjects: number;
}

export interface StoreStats {
  volumes: ({ volume: string } & UsageStats)[];
  total: UsageStats;
  /** Every object under blocks/, referenced or not (garbage that maintenance --full frees is the difference). */
  storeObjects: number;
  storeBytes: number;
}

const BLOCK = /^blocks\/[0-9a-f]{2}\/[0-9a-f]{2}\/([0-9a-f]{64})\.blk$/;

export async function storeStats(store: ObjectStore, o: { volume?: string; signal?: AbortSignal } = {}): Promise<StoreStats> {
  await readHeader(store, o.signal);
  const sizes = new Map<string, number>();
  for await (const obj of store.list('blocks/', { signal: o.signal })) {
    const id = BLOCK.exec(obj.key)?.[1];
    if (id !== undefined) sizes.set(id, obj.size);
  }
  const byVolume = new Map<string, { ids: Set<string>; backups: number; logical: number }>();
  for (const m of await listManifests(store, o.volume, o.signal)) {
    const v = byVolume.get(m.volume) ?? { ids: new Set<string>(), backups: 0, logical: 0 };
    byVolume.set(m.volume, v);
    v.backups++;
    v.logical += m.size;
    for (const id of (await readBlockMap(store, m, o.signal)).ids()) v.ids.add(id);
  }
  const usage = (ids: Set<string>, backups: number, logical: number): UsageStats => {
    let stored = 0;
    let missing = 0;
    for (const id of ids) {
      const s = sizes.get(id);
      if (s === undefined) missing++;
      else stored += s;
    }
    return {
      backups,
      logicalBytes: logical,
      storedBytes: stored,
      objects: ids.size - missing,
      dedupRatio: stored === 0 ? 0 : logical / stored,
      missingObjects: missing,
    };
  };
  const all = new Set<string>();
  let backups = 0;
  let logical = 0;
  const volumes = [...byVolume]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([volume, v]) => {
      for (const id of v.ids) all.add(id);
      backups += v.backups;
      logical += v.logical;
      return { volume, ...usage(v.ids, v.backups, v.logical) };
    });
  let storeBytes = 0;
  for (const s of sizes.values()) storeBytes += s;
  return { volumes, total: usage(all, backups, logical), storeObjects: sizes.size, storeBytes };
}
