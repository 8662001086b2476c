import type { ObjectStore } from '@convoy/objectstore';
import { systemClock, type Clock } from './clock.js';
import { DEFAULT_GC, encodeHeader, readHeader, type GcParams } from './format/header.js';
import { HEADER_KEY, addMarkerKey } from './format/layout.js';
import { readBlockMap, readManifest } from './format/manifest.js';
import { encodeRefFile } from './format/ref-file.js';
import { listAllBackups } from './list.js';
import { acquireLock } from './lock.js';
import type { ProgressCallback } from './progress.js';

export interface UpgradeOptions {
  store: ObjectStore;
  clock?: Clock;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  gc?: Partial<GcParams>;
  lockWaitMs?: number;
}

export interface UpgradeResult {
  from: number;
  to: number;
  /** Backups whose references were recorded for the index. */
  backups: number;
  /**
   * Backups whose manifest or block map is damaged: they get no marker, so a full maintenance
   * would collect blocks only they use. Delete or repair them before running one.
   */
  unreadable: string[];
}

/**
 * Converts a format v1 store to v2 (docs/format.md, "Upgrade"). Under v1's exclusive lock (so v1
 * programs wait, and none is mid-backup): an add marker for every backup, then the header with
 * version 2, last. The next maintenance merges the markers into the index. A crash before the
 * header leaves a v1 store with extra markers v1 ignores; running it again finishes. Reads every
 * manifest and block map once: O(store), once.
 */
export async function upgradeStore(options: UpgradeOptions): Promise<UpgradeResult> {
  const { store, signal } = options;
  const clock = options.clock ?? systemClock;
  const opened = await readHeader(store, signal);
  if (opened.header.version === 2) return { from: 2, to: 2, backups: 0, unreadable: [] };
  const lock = await acquireLock(store, {
    kind: 'delete',
    purpose: 'upgrade to format v2',
    clock,
    signal,
    waitMs: options.lockWaitMs,
  });
  try {
    const refs = await listAllBackups(store, signal);
    const unreadable: string[] = [];
    let done = 0;
    for (const ref of refs) {
      lock.assertHeld();
      try {
        const m = await readManifest(store, ref.volume, ref.id, signal);
        const ids = (await readBlockMap(store, m, signal)).uniqueIds();
        await store.put(addMarkerKey(ref.volume, ref.id), encodeRefFile('ids', ids), { signal });
      } catch (err) {
        // Only a damaged manifest or block map is "unreadable"; a store failure stops the upgrade
        // (a backup without a marker would have its blocks collected).
        const code = (err as { code?: string }).code;
        if (code !== 'CONVOY_MANIFEST_INVALID' && code !== 'CONVOY_FORMAT_UNSUPPORTED') throw err;
        unreadable.push(`${ref.volume}/${ref.id}: ${(err as Error).message}`);
      }
      done++;
      options.onProgress?.({
        phase: 'upgrade',
        bytesDone: 0,
        bytesTotal: 0,
        blocksDone: done,
        blocksTotal: refs.length,
        bytesTransferred: 0,
      });
    }
    lock.assertHeld();
    await store.put(HEADER_KEY, encodeHeader({ ...opened.header, version: 2, gc: { ...DEFAULT_GC, ...options.gc }, encryption: null }));
    return { from: 1, to: 2, backups: refs.length - unreadable.length, unreadable };
  } finally {
    await lock.release();
  }
}
