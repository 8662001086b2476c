import type { ObjectStore } from '@convoy/objectstore';
import type { Progress } from '@convoy/blockstore';

// Structurally the driver contract of @convoy/volumes (which imports this package, not the reverse).

export interface VolumeInfo {
  name: string;
  uuid: string;
  driver: string;
  createdAt: string;
  size?: number;
  mountpoint?: string;
  status?: Record<string, unknown>;
}

export interface SnapshotInfo {
  name: string;
  uuid: string;
  volume: string;
  createdAt: string;
  size?: number;
}

export interface CreateVolumeRequest {
  name: string;
  uuid: string;
  size?: number;
  options: Record<string, string>;
}

export interface RemoveVolumeRequest {
  keepData?: boolean;
  force?: boolean;
}

export interface BackupRequest {
  volume: string;
  snapshot: string;
  store: ObjectStore;
  labels?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface RestoreRequest {
  volume: CreateVolumeRequest;
  store: ObjectStore;
  backupVolume: string;
  backupId: string;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** Why a volume this host may still reference is gone: it was deleted, by whom and when. */
export interface Tombstone {
  name: string;
  uuid: string;
  deletedBy: string;
  deletedAt: string;
}
