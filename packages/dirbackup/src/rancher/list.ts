// The backups a Rancher Convoy v0.5.2 store holds, from its backup records.
import type { ObjectStore } from '@convoy/objectstore';
import { RANCHER_VOLUMES, parseRancherBackupKey, rancherArchiveKey, rancherVolumeDir } from './layout.js';
import { ConvoyError } from '@convoy/errors';
import { isDeltablock, readRancherBackup, readRancherVolume, type RancherBackupRecord, type RancherVolumeRecord } from './records.js';

export const RANCHER_FORMAT = 'rancher-convoy-v0.5.2';

/** One backup Rancher Convoy v0.5.2 made. */
export interface RancherBackupInfo {
  format: typeof RANCHER_FORMAT;
  /** `vfs` for single-file (tar.gz) backups, `devicemapper` for deltablock ones (block images). */
  driver: 'vfs' | 'devicemapper';
  volume: string;
  /** Convoy's backup name, e.g. backup-f12db86493774ab7. */
  name: string;
  /** ISO 8601. */
  created: string;
  snapshot: string;
  /** Bytes stored: the archive's size for vfs backups; the volume's size for deltablock ones. */
  size: number;
  /** Convoy's SnapshotCreatedAt, as it wrote it ('' when absent). */
  snapshotCreated: string;
  /** The volume's size and creation time (ISO 8601) from its volume.cfg (0 and '' without one). */
  volumeSize: number;
  volumeCreated: string;
}

export interface RancherListOptions {
  /** Only this volume's backups. */
  volume?: string | undefined;
  signal?: AbortSignal | undefined;
  /** A record that cannot be read is reported here and left out; without it, the listing fails with it. */
  onProblem?: (error: Error) => void;
}

/** Whether the store holds anything of Rancher Convoy's (one list request). */
export async function hasRancherBackups(store: ObjectStore, signal?: AbortSignal): Promise<boolean> {
  for await (const _ of store.list(RANCHER_VOLUMES, { signal })) return true;
  return false;
}

/** One backup, described as `list` does (its size: the archive's, or the volume's for deltablock); CONVOY_BACKUP_NOT_FOUND when absent. */
export async function inspectRancherBackup(
  store: ObjectStore,
  volume: string,
  name: string,
  signal?: AbortSignal,
): Promise<RancherBackupInfo> {
  const vol = await readRancherVolume(store, volume, signal);
  const b = vol === undefined ? undefined : await readRancherBackup(store, volume, name, signal);
  if (vol === undefined || b === undefined) {
    throw new ConvoyError('CONVOY_BACKUP_NOT_FOUND', `the store holds no Rancher Convoy backup ${name} of volume ${volume}`, {
      hint: `run \`convoy-backup list ${store.location}\` to see its backups`,
      details: { volume, name },
    });
  }
  return describe(store, volume, b, vol, signal);
}

async function describe(
  store: ObjectStore,
  volume: string,
  b: RancherBackupRecord,
  vol: RancherVolumeRecord | undefined,
  signal: AbortSignal | undefined,
): Promise<RancherBackupInfo> {
  const deltablock = isDeltablock(b, vol);
  const size = deltablock ? (vol?.Size ?? 0) : ((await store.stat(rancherArchiveKey(volume, b.Name), { signal }))?.size ?? 0);
  return {
    format: RANCHER_FORMAT,
    driver: deltablock ? 'devicemapper' : 'vfs',
    volume,
    name: b.Name,
    created: b.CreatedTime,
    snapshot: b.SnapshotName,
    size,
    snapshotCreated: b.SnapshotCreatedAt ?? '',
    volumeSize: vol?.Size ?? 0,
    volumeCreated: vol?.CreatedTime ?? '',
  };
}

/** Every backup record in the store (or of one volume), oldest first. */
export async function listRancherBackups(store: ObjectStore, options: RancherListOptions = {}): Promise<RancherBackupInfo[]> {
  const { signal } = options;
  const prefix = options.volume === undefined ? RANCHER_VOLUMES : `${rancherVolumeDir(options.volume)}/backups/`;
  const found: { volumeDir: string; name: string; key: string }[] = [];
  for await (const o of store.list(prefix, { signal })) {
    const k = parseRancherBackupKey(o.key);
    if (k !== undefined) found.push({ volumeDir: k.paddedVolume, name: k.name, key: o.key });
  }
  const volumes = new Map<string, Promise<RancherVolumeRecord | undefined>>();
  const out: RancherBackupInfo[] = [];
  for (const f of found) {
    try {
      // The record names its volume; its key holds the padded name only.
      const volume = f.volumeDir.replace(/!+$/, '');
      if (options.volume !== undefined && volume !== options.volume) continue;
      const b = await readRancherBackup(store, volume, f.name, signal);
      if (b === undefined) continue; // deleted meanwhile
      let v = volumes.get(volume);
      if (v === undefined) volumes.set(volume, (v = readRancherVolume(store, volume, signal)));
      out.push(await describe(store, volume, b, await v, signal));
    } catch (err) {
      if (options.onProblem === undefined) throw err;
      options.onProblem(err as Error);
    }
  }
  return out.sort((a, b) => a.created.localeCompare(b.created) || a.volume.localeCompare(b.volume) || a.name.localeCompare(b.name));
}
