import type { ObjectStore } from '@convoy/objectstore';
import {
  FileSource,
  backupVolume,
  openOrInitStore,
  runMaintenance,
  type BackupOptions,
  type BackupResult,
  type MaintenanceResult,
  type SnapshotSource,
} from '../src/index.js';

/** Backs up a file (or a given source), closing the source afterwards. */
export async function backupFile(opts: Omit<BackupOptions, 'source'> & { file: string; source?: SnapshotSource }): Promise<BackupResult> {
  const source = opts.source ?? (await FileSource.open(opts.file));
  try {
    return await backupVolume({ ...opts, source });
  } finally {
    await source.close();
  }
}

export async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys.sort();
}

/**
 * Frees everything unreferenced in a v2 store nobody else uses: a full maintenance marks, a second
 * one (grace 0) sweeps. Returns the blocks the second one deleted.
 */
export async function collectAll(store: ObjectStore): Promise<{ blocksDeleted: number; runs: MaintenanceResult[] }> {
  const first = await runMaintenance({ store, full: true, graceMs: 0 });
  const second = await runMaintenance({ store, full: true, graceMs: 0 });
  return { blocksDeleted: (first.sweep?.blocksDeleted ?? 0) + (second.sweep?.blocksDeleted ?? 0), runs: [first, second] };
}

/** Makes `store` a format v1 store (as written by the previous release). */
export async function initV1(store: ObjectStore): Promise<void> {
  await openOrInitStore(store, { compression: 'zstd', now: new Date(), version: 1 });
}
