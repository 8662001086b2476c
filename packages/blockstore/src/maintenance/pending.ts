import type { ObjectStore } from '@convoy/objectstore';
import { PENDING_PREFIX, parseMarkerKey } from '../format/layout.js';

export interface Marker {
  key: string;
  volume: string;
  id: string;
  lastModified: Date | undefined;
}

export interface PendingScan {
  /** Add markers by `volume/id`. */
  adds: Map<string, Marker>;
  /** Tombstones by `volume/id`. */
  dels: Map<string, Marker>;
}

/** Lists every pending marker (O(markers), never O(store)). */
export async function scanPending(store: ObjectStore, signal?: AbortSignal): Promise<PendingScan> {
  const adds = new Map<string, Marker>();
  const dels = new Map<string, Marker>();
  for await (const o of store.list(PENDING_PREFIX, { signal })) {
    const k = parseMarkerKey(o.key);
    if (k === undefined) continue;
    const m: Marker = { key: o.key, volume: k.volume, id: k.id, lastModified: o.lastModified };
    (k.kind === 'add' ? adds : dels).set(`${k.volume}/${k.id}`, m);
  }
  return { adds, dels };
}
