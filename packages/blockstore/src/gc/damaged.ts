import type { ObjectStore } from '@convoy/objectstore';
import { DAMAGED_PREFIX, damagedKey } from '../format/layout.js';
import { IdSet } from '../id-claims.js';

/**
 * Blocks known to be corrupt in the store (format v2, `gc/damaged/<id>`): written by `verify
 * --read-data` when a block reads back wrong twice alike. A backup that reads the same content
 * from its source uploads it again over the bad object and clears the marker: repair by backing up.
 */
export async function listDamaged(store: ObjectStore, signal?: AbortSignal): Promise<IdSet> {
  const out = new IdSet();
  for await (const o of store.list(DAMAGED_PREFIX, { signal })) {
    const hex = o.key.slice(DAMAGED_PREFIX.length);
    if (/^[0-9a-f]{64}$/.test(hex)) out.add(hex);
  }
  return out;
}

export async function markDamaged(store: ObjectStore, hex: string, reason: string, now: Date): Promise<void> {
  await store.put(damagedKey(hex), Buffer.from(`${JSON.stringify({ block: hex, reason, found: now.toISOString() })}\n`));
}

export async function clearDamaged(store: ObjectStore, hexes: readonly string[]): Promise<void> {
  if (hexes.length > 0) await store.delete(hexes.map(damagedKey));
}
