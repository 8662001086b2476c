import type { ObjectStore } from '@convoy/objectstore';
import type { Progress } from '@convoy/blockstore';

/** A volume as a driver reports it. */
export interface VolumeInfo {
  name: string;
  /** Stable id (UUID v4), unique across hosts. */
  uuid: string;
  driver: string;
  createdAt: string;
  /** Bytes, where the driver has a size (thin volumes); undefined for plain directories. */
  size?: number;
  /** Where the volume is mounted on this host, if it is. */
  mountpoint?: string;
  /**
   * 'creating': not finished (being created or restored, or its creator stopped before finishing):
   * it cannot be mounted. Absent: ready.
   */
  state?: 'creating';
  /** Driver-specific facts (device, base path, …) for `convoy inspect`. */
  status?: Record<string, unknown>;
}

export interface SnapshotInfo {
  name: string;
  uuid: string;
  volume: string;
  createdAt: string;
  size?: number;
  /** 'creating': its copy is not complete yet (or its creator stopped before finishing): it cannot be backed up. Absent: ready. */
  state?: 'creating';
}

export interface CreateVolumeRequest {
  name: string;
  uuid: string;
  size?: number;
  /** Driver options (`-o key=value` from Docker, `--driver-opts` from the CLI). */
  options: Record<string, string>;
  /** The new volume starts as a copy of this snapshot (of a volume of the same driver). */
  fromSnapshot?: { volume: string; snapshot: string };
}

export interface RemoveVolumeRequest {
  /** Keep the data, forget the volume (Convoy's --ignore-docker-delete for Docker removals). */
  keepData?: boolean;
  /**
   * Delete even if Docker on other hosts still references the volume (an operator's decision, for
   * hosts that are gone). Never overrides a mount, on this host or another.
   */
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
  /** The new volume. */
  volume: CreateVolumeRequest;
  store: ObjectStore;
  backupVolume: string;
  backupId: string;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** How a listing reports what it could not read. */
export interface ListOptions {
  /**
   * A volume or snapshot whose record is corrupt is reported here (an error naming the record, with
   * a hint) and left out, so the others are still listed. Without it, the listing fails with it.
   */
  onProblem?: (error: Error) => void;
}

/** Why a volume this host may still reference is gone: deleted by which host, when. */
export interface Tombstone {
  name: string;
  uuid: string;
  deletedBy: string;
  deletedAt: string;
}

/**
 * What a storage backend implements (vfs, devicemapper). Drivers are the source of truth for
 * which volumes exist (a shared vfs path may gain volumes from other hosts at any time); the
 * manager adds names, serialisation, Docker mount reference counts and durable state.
 */
export interface VolumeDriver {
  readonly name: string;
  /** 'global': every host sees the same volumes (shared vfs); 'local': this host only. */
  readonly scope: 'local' | 'global';
  start(): Promise<void>;
  stop(): Promise<void>;
  info(): Promise<Record<string, unknown>>;

  create(req: CreateVolumeRequest): Promise<VolumeInfo>;
  remove(name: string, req: RemoveVolumeRequest): Promise<void>;
  /** Mounts (or, for directory volumes, exposes) the volume; returns the mountpoint. Idempotent. */
  mount(name: string, options: { mountpoint?: string }): Promise<string>;
  unmount(name: string): Promise<void>;
  get(name: string): Promise<VolumeInfo | undefined>;
  list(options?: ListOptions): Promise<VolumeInfo[]>;

  snapshotCreate(volume: string, snapshot: { name: string; uuid: string }): Promise<SnapshotInfo>;
  snapshotDelete(volume: string, snapshot: string): Promise<void>;
  snapshotList(volume: string, options?: ListOptions): Promise<SnapshotInfo[]>;
  /** Rolls the volume back to the snapshot, in place; refused while it is mounted anywhere. Drivers without it cannot. */
  snapshotRestore?(volume: string, snapshot: string): Promise<void>;

  /** Backs a snapshot up; returns the backup URL. */
  backup(req: BackupRequest): Promise<{ url: string; id: string }>;
  /** Creates a volume from a backup. */
  restore(req: RestoreRequest): Promise<VolumeInfo>;

  /**
   * This host's Docker knows the volume (it was created, looked up or mounted through Docker):
   * drivers with shared storage record it, so a delete elsewhere asks for --force and names this
   * host. Idempotent.
   */
  reference?(name: string): Promise<void>;

  /** If the volume was deleted (e.g. by another host sharing the storage): who and when. */
  tombstone?(name: string): Promise<Tombstone | undefined>;
}
