// What the driver reports of its volumes, snapshots and pool, made from its state records.
import type { PoolStatus } from './pool-status.js';
import type { AdoptedFrom, SnapshotRecord, VolumeRecord } from './state.js';

export interface ThinVolumeInfo {
  name: string;
  uuid: string;
  /** Bytes. */
  size: number;
  fs: string;
  createdAt: string;
  /** The thin device id in the pool. */
  deviceId: number;
  /** Where this driver mounted the volume, if it is mounted. */
  mountpoint?: string;
  /** Snapshot names, oldest first. */
  snapshots: string[];
  /** The backup URL the volume was restored from. */
  restoredFrom?: string;
}

export interface ThinSnapshotInfo {
  name: string;
  uuid: string;
  volume: string;
  size: number;
  createdAt: string;
  deviceId: number;
  /** Newest backup of this snapshot per store location: its id. */
  backups: Record<string, string>;
}

export interface PoolInfo extends PoolStatus {
  name: string;
  /** Pool data block size in bytes. */
  blockSize: number;
  dataDevice: string;
  metadataDevice: string;
  loopFiles: boolean;
  dataUsedBytes: number;
  dataTotalBytes: number;
  metadataUsedBytes: number;
  metadataTotalBytes: number;
  volumes: number;
  snapshots: number;
  /** The size of a volume created without one (dm.defaultvolumesize), in bytes. */
  defaultVolumeSize: number;
  /** Set when the driver took over a Rancher Convoy v0.5.2 pool in place (adopt.ts). */
  adoptedFrom?: AdoptedFrom;
}

export function volumeInfo(v: VolumeRecord): ThinVolumeInfo {
  const snaps = Object.values(v.snapshots).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.deviceId - b.deviceId);
  return {
    name: v.name,
    uuid: v.uuid,
    size: v.size,
    fs: v.fs,
    createdAt: v.createdAt,
    deviceId: v.deviceId,
    mountpoint: v.mountpoint,
    snapshots: snaps.map((s) => s.name),
    restoredFrom: v.restoredFrom,
  };
}

export function snapshotInfo(volume: string, s: SnapshotRecord): ThinSnapshotInfo {
  return { name: s.name, uuid: s.uuid, volume, size: s.size, createdAt: s.createdAt, deviceId: s.deviceId, backups: { ...s.backups } };
}
