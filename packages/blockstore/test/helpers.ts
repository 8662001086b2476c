import type { ObjectStore } from '@convoy/objectstore';
import { FileSource, backupVolume, type BackupOptions, type BackupResult, type SnapshotSource } from '../src/index.js';

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
