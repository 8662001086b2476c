import {
  FileSource,
  backupVolume,
  readHeader,
  readManifest,
  DEFAULT_BLOCK_SIZE,
  type Compression,
  type Extent,
  type Manifest,
  type ProgressCallback,
} from '@convoy/blockstore';
import { validateVolumeName } from '@convoy/rules';
import { isConvoyError } from '@convoy/errors';
import type { ObjectStore } from '@convoy/objectstore';
import type { DriverCore } from './core.js';
import { DevmapperError, invalidArgument } from './errors.js';
import { ThinSnapshotSource } from './snapshot-source.js';
import type { SnapshotRecord, VolumeRecord } from './state.js';
import { blocksTouched } from './thin-delta.js';

export interface BackupSourceOptions {
  /** An earlier snapshot of the same volume: `changed` lists what differs from it. */
  parentSnapshot?: string;
  /** Widen changed extents to blocks of this size (default: blockstore's 2 MiB). */
  backupBlockSize?: number;
}

export interface OpenedBackupSource {
  /** The snapshot as a read-only block device; close() deactivates it. */
  source: ThinSnapshotSource;
  /** Extents changed since `parentSnapshot` (only when one was given). */
  changed?: Extent[];
  parentSnapshot?: string;
}

export interface DriverBackupRequest {
  volume: string;
  snapshot: string;
  store: ObjectStore;
  /** The volume name in the store (default: the volume's name). */
  backupVolume?: string;
  labels?: Record<string, string>;
  compression?: Compression;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

export interface DriverBackupResult {
  url: string;
  id: string;
  manifest: Manifest;
  /** The snapshot whose backup this one is incremental against (thin_delta), if any. */
  parentSnapshot?: string;
  /** Backup blocks the change list named (undefined for a full read). */
  changedBlocks?: number;
}

export async function openBackupSource(
  c: DriverCore,
  volume: string,
  snapshot: string,
  options: BackupSourceOptions,
): Promise<OpenedBackupSource> {
  const key = `${volume}/${snapshot}`;
  const bbs = options.backupBlockSize ?? DEFAULT_BLOCK_SIZE;
  const { s, parent, changed, mapped, dev } = await c.lock(async () => {
    const { s } = c.snapshot(volume, snapshot);
    if (c.busy.has(key))
      throw new DevmapperError('CONVOY_SNAPSHOT_IN_USE', `snapshot ${snapshot} of ${volume} is already being backed up`, {
        hint: 'wait for that backup to finish',
      });
    const parent = options.parentSnapshot === undefined ? undefined : c.snapshot(volume, options.parentSnapshot).s;
    if (parent?.deviceId === s.deviceId) throw invalidArgument(`snapshot ${snapshot} cannot be its own parent`);
    c.busy.add(key);
    try {
      const changed = parent === undefined ? undefined : await c.pool.changedExtents(parent.deviceId, s.deviceId, s.size, bbs);
      const dev = await c.pool.activate(c.snapshotDevice(s.deviceId), s.deviceId, s.size, true);
      // a full read skips what the device does not map (an incremental reads only `changed` anyway)
      const mapped = parent === undefined ? await c.pool.mappedExtents(s.deviceId, c.snapshotDevice(s.deviceId), s.size, bbs) : undefined;
      return { s, parent, changed, mapped, dev };
    } catch (err) {
      c.busy.delete(key);
      await c.pool.deactivate(c.snapshotDevice(s.deviceId)).catch(() => undefined);
      throw err;
    }
  });
  const release = (): Promise<void> =>
    c.lock(async () => {
      try {
        await c.pool.deactivate(c.snapshotDevice(s.deviceId));
      } finally {
        c.busy.delete(key);
      }
    });
  let file: FileSource;
  try {
    file = await FileSource.open(dev);
  } catch (err) {
    await release();
    throw err;
  }
  if (file.size < s.size) {
    await file.close();
    await release();
    throw new DevmapperError('CONVOY_DM_FAILED', `snapshot device ${dev} has ${file.size} bytes, expected ${s.size}`);
  }
  return {
    source: new ThinSnapshotSource(file, s.size, release, mapped),
    changed,
    ...(parent === undefined ? {} : { parentSnapshot: parent.name }),
  };
}

/** The newest other snapshot of `v`, taken no later than `s`, with a backup in `location`. */
function parentCandidate(v: VolumeRecord, s: SnapshotRecord, location: string): SnapshotRecord | undefined {
  return Object.values(v.snapshots)
    .filter((x) => x.deviceId !== s.deviceId && x.backups[location] !== undefined && x.createdAt <= s.createdAt)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.deviceId - a.deviceId)[0];
}

export async function backupSnapshot(c: DriverCore, req: DriverBackupRequest): Promise<DriverBackupResult> {
  const storeVolume = req.backupVolume ?? req.volume;
  validateVolumeName(storeVolume);
  const location = req.store.location;
  const { candidate, fsType } = await c.lock(async () => {
    const { v, s } = c.snapshot(req.volume, req.snapshot);
    const p = parentCandidate(v, s, location);
    return {
      fsType: v.fs,
      candidate: p === undefined ? undefined : { name: p.name, backupId: p.backups[location] as string, size: s.size },
    };
  });
  // The parent's backup must still exist (it may have been deleted from the store) and cover the
  // same size with the store's block size; otherwise read everything (dedup still applies).
  let parent: { name: string; backupId: string } | undefined;
  let backupBlockSize = DEFAULT_BLOCK_SIZE;
  if (candidate !== undefined) {
    try {
      const m = await readManifest(req.store, storeVolume, candidate.backupId, req.signal);
      backupBlockSize = (await readHeader(req.store, req.signal)).header.blockSize;
      if (m.size === candidate.size && m.blockSize === backupBlockSize) parent = candidate;
      else c.log('info', `backup ${candidate.backupId} has another size or block size: full read of ${req.volume}/${req.snapshot}`);
    } catch (err) {
      if (!isConvoyError(err, 'CONVOY_BACKUP_NOT_FOUND')) throw err;
      c.log(
        'info',
        `backup ${candidate.backupId} of snapshot ${candidate.name} is gone from ${location}: full read of ${req.volume}/${req.snapshot}`,
      );
    }
  }
  const opened = await openBackupSource(
    c,
    req.volume,
    req.snapshot,
    parent === undefined ? {} : { parentSnapshot: parent.name, backupBlockSize },
  );
  let manifest: Manifest;
  let url: string;
  try {
    const res = await backupVolume({
      store: req.store,
      volume: storeVolume,
      source: opened.source,
      snapshot: req.snapshot,
      parent: parent?.backupId ?? 'latest',
      ...(parent === undefined || opened.changed === undefined ? {} : { changed: opened.changed }),
      labels: { [FS_LABEL]: fsType, ...req.labels, driver: 'devicemapper' },
      compression: req.compression,
      concurrency: req.concurrency,
      signal: req.signal,
      onProgress: req.onProgress,
    });
    manifest = res.manifest;
    url = res.url;
  } finally {
    await opened.source.close();
  }
  await c.lock(async () => {
    const s = c.state.volumes[req.volume]?.snapshots[req.snapshot];
    if (s === undefined) return; // deleted meanwhile: nothing to remember
    s.backups[location] = manifest.id;
    await c.save();
  });
  return {
    url,
    id: manifest.id,
    manifest,
    ...(parent === undefined ? {} : { parentSnapshot: parent.name }),
    ...(parent === undefined || opened.changed === undefined ? {} : { changedBlocks: blocksTouched(opened.changed, backupBlockSize) }),
  };
}

/** Manifest label naming the volume's filesystem, so a restore mounts it with the right type. */
export const FS_LABEL = 'convoy.fs';
