import { ObjectNotFoundError, type ObjectStore } from '@convoy/objectstore';
import { systemClock, type Clock } from './clock.js';
import { BlockstoreError } from './errors.js';
import { readHeader } from './format/header.js';
import { blockMapKey, delMarkerKey, manifestKey, volumeKey } from './format/layout.js';
import { readManifest, writeVolumeRecord } from './format/manifest.js';
import { validateBackupId } from './format/names.js';
import { validateVolumeName } from '@convoy/rules';
import { deleteBackupV1, type GcResult } from './gc.js';
import { listBackupIds } from './list.js';
import type { ProgressCallback } from './progress.js';

export interface DeleteOptions {
  store: ObjectStore;
  volume: string;
  id: string;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  lockWaitMs?: number;
  clock?: Clock;
}

export interface DeleteResult extends GcResult {
  /** The backup was already deleted (an earlier delete was interrupted or ran twice): nothing to do. */
  alreadyDeleted: boolean;
  /**
   * Who frees the blocks: `delete` (format v1: GC ran now, under a store-wide lock) or
   * `maintenance` (format v2: the next maintenance merges the tombstone, a full one sweeps).
   */
  collectedBy: 'delete' | 'maintenance';
}

/**
 * Deletes a backup. Format v2 (docs/format.md, "Delete"): a tombstone, then the manifest, then the
 * volume record: O(1) requests whatever the store holds, no lock. Maintenance later subtracts its
 * references and frees what nothing else uses. Running it again after an interruption finishes it
 * (and answers `alreadyDeleted` once it is done). Format v1: v1's delete + GC under the store lock.
 */
export async function deleteBackup(options: DeleteOptions): Promise<DeleteResult> {
  const { store, volume, id, signal } = options;
  validateVolumeName(volume);
  validateBackupId(id);
  const opened = await readHeader(store, signal);
  if (opened.header.version === 1) return { ...(await deleteBackupV1(options)), alreadyDeleted: false, collectedBy: 'delete' };
  const clock = options.clock ?? systemClock;
  const sig = { signal };
  const tomb = delMarkerKey(volume, id);
  try {
    await readManifest(store, volume, id, signal);
  } catch (err) {
    if (!(err instanceof BlockstoreError)) throw err;
    if (err.code === 'CONVOY_BACKUP_NOT_FOUND') {
      if ((await store.stat(tomb, sig)) !== undefined || (await store.stat(blockMapKey(volume, id), sig)) !== undefined) {
        await updateVolumeRecord(store, volume, clock, signal); // an interrupted delete: finish its last step
        return { blocksDeleted: 0, blockMapsDeleted: 0, blocksKept: 0, alreadyDeleted: true, collectedBy: 'maintenance' };
      }
      throw err;
    }
    // An unreadable manifest of this backup: deleting it is how the user gets rid of it.
    if (err.code !== 'CONVOY_MANIFEST_INVALID' && err.code !== 'CONVOY_FORMAT_UNSUPPORTED') throw err;
  }
  const body = { format: 'convoy-tombstone', volume, id, deleted: clock.now().toISOString() };
  await store.put(tomb, Buffer.from(`${JSON.stringify(body)}\n`), sig);
  await store.delete([manifestKey(volume, id)], sig);
  await updateVolumeRecord(store, volume, clock, signal);
  return { blocksDeleted: 0, blockMapsDeleted: 0, blocksKept: 0, alreadyDeleted: false, collectedBy: 'maintenance' };
}

/** Points the volume record at the newest remaining backup, or removes it when none is left. */
export async function updateVolumeRecord(store: ObjectStore, volume: string, clock: Clock, signal?: AbortSignal): Promise<void> {
  const remaining = await listBackupIds(store, volume, signal);
  for (let i = remaining.length - 1; i >= 0; i--) {
    let m;
    try {
      m = await readManifest(store, volume, remaining[i] as string, signal);
    } catch (err) {
      if (err instanceof BlockstoreError || err instanceof ObjectNotFoundError) continue; // unreadable or gone: the one before
      throw err;
    }
    await writeVolumeRecord(store, volume, m, clock.now(), signal);
    return;
  }
  await store.delete([volumeKey(volume)]);
}
