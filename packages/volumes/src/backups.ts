// The manager's operations on backup stores: inspect, list and delete by URL, and restore into a new volume.
import {
  deleteBackup,
  listManifests,
  parseAnyBackupUrl,
  parseBackupUrl,
  readManifest,
  type DeleteResult,
  type Manifest,
  type Progress,
} from '@convoy/blockstore';
import type { CreateVolumeRequest, VolumeDriver, VolumeInfo } from '@convoy/volume-driver';
import { assertStoreExists, openStore, type ObjectStore } from '@convoy/objectstore';

export type StoreOpener = (url: string) => Promise<ObjectStore>;

/**
 * Runs `work` on the backup store `url` names, closing it after. Only `create` (a backup to it)
 * may make a vfs store that is not there yet; `existing` is CONVOY_STORE_NOT_FOUND then.
 */
export async function withStore<T>(
  url: string,
  mode: 'create' | 'existing',
  open: StoreOpener | undefined,
  work: (store: ObjectStore) => Promise<T>,
): Promise<T> {
  if (mode === 'existing') await assertStoreExists(url);
  const store = await (open ?? ((u: string) => openStore(u)))(url);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export function backupInspect(url: string, open?: StoreOpener): Promise<Manifest> {
  const ref = parseBackupUrl(url);
  return withStore(ref.storeUrl, 'existing', open, (store) => readManifest(store, ref.volume, ref.id));
}

export function backupList(dest: string, volume: string | undefined, open?: StoreOpener): Promise<Manifest[]> {
  return withStore(dest, 'existing', open, (store) => listManifests(store, volume));
}

export function backupDelete(url: string, open?: StoreOpener): Promise<DeleteResult> {
  const ref = parseBackupUrl(url);
  return withStore(ref.storeUrl, 'existing', open, (store) => deleteBackup({ store, volume: ref.volume, id: ref.id }));
}

/**
 * Creates the volume `volume` with `driver` from the backup `url` names: one of ours, or one of
 * Rancher Convoy v0.5.2's (its backup name passed on as the id; the vfs driver restores those).
 */
export function restoreVolume(
  driver: VolumeDriver,
  volume: CreateVolumeRequest,
  url: string,
  o: { signal?: AbortSignal; onProgress?: (p: Progress) => void; open?: StoreOpener },
): Promise<VolumeInfo> {
  const ref = parseAnyBackupUrl(url);
  const backupId = ref.format === 'convoy' ? ref.id : ref.name;
  return withStore(ref.storeUrl, 'existing', o.open, (store) =>
    driver.restore({ volume, store, backupVolume: ref.volume, backupId, signal: o.signal, onProgress: o.onProgress }),
  );
}

export interface BackupCreateOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  labels?: Record<string, string>;
}

/** Backs a snapshot up to `dest` (a store URL) through its driver. */
export function backupSnapshot(
  driver: VolumeDriver,
  s: { volume: string; name: string },
  dest: string,
  o: BackupCreateOptions,
  open: StoreOpener | undefined,
): Promise<{ url: string; id: string }> {
  return withStore(dest, 'create', open, (store) =>
    driver.backup({ volume: s.volume, snapshot: s.name, store, labels: o.labels, signal: o.signal, onProgress: o.onProgress }),
  );
}
