import type { ObjectStore } from '@convoy/objectstore';
import type { DeleteOptions } from './delete.js';
import { BLOCKS_PREFIX, VOLUMES_PREFIX, blockIdFromKey, blockMapKey, manifestKey, parseBackupKey, volumeKey } from './format/layout.js';
import { readHeader } from './format/header.js';
import { readBlockMap, readManifest, writeVolumeRecord } from './format/manifest.js';
import { listAllBackups, listBackupIds } from './list.js';
import { acquireLock, type StoreLock } from './lock.js';
import type { ProgressCallback } from './progress.js';

export interface GcResult {
  blocksDeleted: number;
  blockMapsDeleted: number;
  blocksKept: number;
}

export type DeleteV1Options = Omit<DeleteOptions, 'clock'>;

/**
 * Format v1's delete (docs/format.md, "Format v1"): under the delete lock, removes the manifest,
 * then its block map, updates the volume record, then collects every block no manifest references.
 * A delete interrupted after the manifest went (its block map is still there) is finished.
 */
export async function deleteBackupV1(options: DeleteV1Options): Promise<GcResult> {
  const { store, volume, id, signal } = options;
  await readHeader(store, signal);
  try {
    await readManifest(store, volume, id, signal); // exists and is ours: clear error otherwise
  } catch (err) {
    const interrupted =
      (err as { code?: string }).code === 'CONVOY_BACKUP_NOT_FOUND' && (await store.stat(blockMapKey(volume, id))) !== undefined;
    if (!interrupted) throw err;
  }
  const lock = await acquireLock(store, { kind: 'delete', volume, signal, waitMs: options.lockWaitMs });
  try {
    await store.delete([manifestKey(volume, id)]);
    await store.delete([blockMapKey(volume, id)]);
    const remaining = await listBackupIds(store, volume, signal);
    const latest = remaining.at(-1);
    if (latest === undefined) {
      await store.delete([volumeKey(volume)]);
    } else {
      await writeVolumeRecord(store, volume, await readManifest(store, volume, latest, signal), new Date(), signal);
    }
    return await collectGarbageLocked(store, lock, signal, options.onProgress);
  } finally {
    await lock.release();
  }
}

/** Runs format v1's GC on its own (takes the delete lock). */
export async function collectGarbage(
  store: ObjectStore,
  options: { signal?: AbortSignal; onProgress?: ProgressCallback; lockWaitMs?: number } = {},
): Promise<GcResult> {
  await readHeader(store, options.signal);
  const lock = await acquireLock(store, { kind: 'delete', signal: options.signal, waitMs: options.lockWaitMs });
  try {
    return await collectGarbageLocked(store, lock, options.signal, options.onProgress);
  } finally {
    await lock.release();
  }
}

async function collectGarbageLocked(
  store: ObjectStore,
  lock: StoreLock,
  signal: AbortSignal | undefined,
  onProgress: ProgressCallback | undefined,
): Promise<GcResult> {
  // 1. Everything any committed backup references.
  const referenced = new Set<string>();
  const liveMaps = new Set<string>();
  for (const ref of await listAllBackups(store, signal)) {
    const m = await readManifest(store, ref.volume, ref.id, signal);
    liveMaps.add(m.blockMap.key);
    for (const h of (await readBlockMap(store, m, signal)).ids()) referenced.add(h);
  }
  // 2. Orphan block maps (a crashed backup wrote the map, never the manifest).
  const orphanMaps: string[] = [];
  for await (const o of store.list(VOLUMES_PREFIX, { signal })) {
    if (parseBackupKey(o.key)?.kind === 'blockmap' && !liveMaps.has(o.key)) orphanMaps.push(o.key);
  }
  // 3. Unreferenced blocks, deleted in batches while listing.
  let blocksDeleted = 0;
  let blocksKept = 0;
  let batch: string[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    lock.assertHeld();
    await store.delete(batch, { signal });
    blocksDeleted += batch.length;
    batch = [];
    onProgress?.({ phase: 'gc', bytesDone: 0, bytesTotal: 0, blocksDone: blocksDeleted, blocksTotal: 0, bytesTransferred: 0 });
  };
  for await (const o of store.list(BLOCKS_PREFIX, { signal })) {
    const id = blockIdFromKey(o.key);
    if (id === undefined) continue; // not ours: leave it
    if (referenced.has(id)) blocksKept++;
    else {
      batch.push(o.key);
      if (batch.length >= 1000) await flush();
    }
  }
  await flush();
  if (orphanMaps.length > 0) {
    lock.assertHeld();
    await store.delete(orphanMaps);
  }
  return { blocksDeleted, blockMapsDeleted: orphanMaps.length, blocksKept };
}
