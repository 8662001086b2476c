// Applying a retention policy to one volume's backups in a store: the decision (retention.ts), then
// a delete of each backup it removes (O(1) each on a v2 store; maintenance --full frees the blocks).
import type { ObjectStore } from '@convoy/objectstore';
import { deleteBackup } from './delete.js';
import type { Manifest } from './format/manifest.js';
import { listManifests } from './list.js';
import { applyRetention, type RetentionDecision, type RetentionPolicy } from './retention.js';

export type ForgetItem = { id: string; time: Date; manifest: Manifest };

/** Each volume's decision (every volume, or one); with `dryRun`, nothing is deleted. */
export async function forgetBackups(o: {
  store: ObjectStore;
  policy: RetentionPolicy;
  volume?: string | undefined;
  dryRun?: boolean;
  signal?: AbortSignal | undefined;
}): Promise<Map<string, RetentionDecision<ForgetItem>>> {
  applyRetention([], o.policy); // a bad policy fails before anything is read
  const byVolume = new Map<string, ForgetItem[]>();
  for (const m of await listManifests(o.store, o.volume, o.signal)) {
    byVolume.set(m.volume, [...(byVolume.get(m.volume) ?? []), { id: m.id, time: new Date(m.created), manifest: m }]);
  }
  const out = new Map<string, RetentionDecision<ForgetItem>>();
  for (const [volume, items] of [...byVolume].sort(([a], [b]) => a.localeCompare(b))) {
    const d = applyRetention(items, o.policy);
    out.set(volume, d);
    if (o.dryRun !== true) for (const r of d.remove) await deleteBackup({ store: o.store, volume, id: r.id, signal: o.signal });
  }
  return out;
}
