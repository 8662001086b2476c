// The manager's operations on backup stores: inspect, list and delete by URL, and restore into a new volume.
import {
  deleteBackup,
  parseAnyBackupUrl,
  isDirectoryManifest,
  parseBackupUrl,
  readManifest,
  type DeleteResult,
  type Manifest,
  type Progress,
} from '@convoy/blockstore';
import { listRancherBackups, listStoreBackups, type RancherBackupInfo, type StoreBackups } from '@convoy/dirbackup';
import { ConvoyError } from '@convoy/errors';
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

/** A backup by URL: one of ours (its manifest), or one of Rancher Convoy v0.5.2's (its records). */
export type InspectedBackup = { format: 'convoy'; manifest: Manifest } | { format: 'rancher-convoy-v0.5.2'; backup: RancherBackupInfo };

export function backupInspect(url: string, open?: StoreOpener): Promise<InspectedBackup> {
  const ref = parseAnyBackupUrl(url);
  if (ref.format === 'convoy') {
    return withStore<InspectedBackup>(ref.storeUrl, 'existing', open, async (store) => ({
      format: 'convoy',
      manifest: await readManifest(store, ref.volume, ref.id),
    }));
  }
  return withStore<InspectedBackup>(ref.storeUrl, 'existing', open, async (store) => {
    const backup = (await listRancherBackups(store, { volume: ref.volume })).find((b) => b.name === ref.name);
    if (backup === undefined) {
      throw new ConvoyError('CONVOY_BACKUP_NOT_FOUND', `the store holds no Rancher Convoy backup ${ref.name} of volume ${ref.volume}`, {
        hint: `run \`convoy backup list ${ref.storeUrl}\` to see its backups`,
        details: { volume: ref.volume, name: ref.name },
      });
    }
    return { format: 'rancher-convoy-v0.5.2', backup };
  });
}

/**
 * The driver a volume restored from `url` gets when none is named: the driver that made the backup
 * (the `driver` label of ours, a directory backup being vfs's; the record of Rancher Convoy's) when
 * it is one of `configured`, else `fallback` (which refuses, saying why, a backup it cannot restore).
 */
export async function backupDriver(url: string, configured: readonly string[], fallback: string, open?: StoreOpener): Promise<string> {
  const b = await backupInspect(url, open);
  const made =
    b.format === 'convoy' ? (b.manifest.labels.driver ?? (isDirectoryManifest(b.manifest) ? 'vfs' : undefined)) : b.backup.driver;
  return made !== undefined && configured.includes(made) ? made : fallback;
}

/** What a store holds, ours and Rancher Convoy v0.5.2's (@convoy/dirbackup's listStoreBackups), and what could not be read. */
export interface BackupListing extends StoreBackups {
  problems: Error[];
}

export function backupList(dest: string, volume: string | undefined, open?: StoreOpener): Promise<BackupListing> {
  return withStore(dest, 'existing', open, async (store) => {
    const problems: Error[] = [];
    // an empty store lists no backups, as Rancher Convoy's list did (it exists: withStore checked)
    const listed = await listStoreBackups(store, { volume, emptyIsError: false, onProblem: (err) => problems.push(err) });
    return { ...listed, problems };
  });
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
