import type { ObjectStore } from '@convoy/objectstore';
import { VOLUMES_PREFIX, backupsPrefix, parseBackupKey } from './format/layout.js';
import { BlockstoreError } from './errors.js';
import { readManifest, type Manifest } from './format/manifest.js';

/** Ids of a volume's committed backups (those with a manifest), oldest first. */
export async function listBackupIds(store: ObjectStore, volume: string, signal?: AbortSignal): Promise<string[]> {
  const ids: string[] = [];
  for await (const o of store.list(backupsPrefix(volume), { signal })) {
    const k = parseBackupKey(o.key);
    if (k?.kind === 'manifest' && k.volume === volume) ids.push(k.id);
  }
  return ids.sort();
}

/** Every committed backup in the store as (volume, id), volumes and ids sorted. */
export async function listAllBackups(store: ObjectStore, signal?: AbortSignal): Promise<{ volume: string; id: string }[]> {
  const out: { volume: string; id: string }[] = [];
  for await (const o of store.list(VOLUMES_PREFIX, { signal })) {
    const k = parseBackupKey(o.key);
    if (k?.kind === 'manifest') out.push({ volume: k.volume, id: k.id });
  }
  return out.sort((a, b) => (a.volume === b.volume ? a.id.localeCompare(b.id) : a.volume.localeCompare(b.volume)));
}

/**
 * Manifests of a volume's backups (or of all volumes), oldest first. An unreadable manifest throws,
 * unless `onUnreadable` is given: then it is reported there and the others are listed, so one
 * damaged backup does not hide the rest of the store.
 */
export async function listManifests(
  store: ObjectStore,
  volume?: string,
  signal?: AbortSignal,
  onUnreadable?: (ref: { volume: string; id: string }, err: Error) => void,
): Promise<Manifest[]> {
  const refs =
    volume === undefined ? await listAllBackups(store, signal) : (await listBackupIds(store, volume, signal)).map((id) => ({ volume, id }));
  const out: Manifest[] = [];
  for (const r of refs) {
    try {
      out.push(await readManifest(store, r.volume, r.id, signal));
    } catch (err) {
      if (onUnreadable === undefined || !(err instanceof BlockstoreError) || err.code === 'CONVOY_BACKUP_NOT_FOUND') {
        if (err instanceof BlockstoreError && err.code === 'CONVOY_BACKUP_NOT_FOUND' && onUnreadable !== undefined) continue; // deleted meanwhile
        throw err;
      }
      onUnreadable(r, err);
    }
  }
  return out;
}

export async function latestBackupId(store: ObjectStore, volume: string, signal?: AbortSignal): Promise<string | undefined> {
  return (await listBackupIds(store, volume, signal)).at(-1);
}
