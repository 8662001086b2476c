/**
 * The control API of convoy-daemon: HTTP/1.1 + JSON over a unix socket (default
 * /var/run/convoy/convoy.sock, mode 0660). The `convoy` CLI is its client. docs/control-api.md
 * lists the routes; these are the bodies.
 */

/** Where convoy-daemon listens for the control API unless told otherwise (`--control-socket`). */
export const DEFAULT_CONTROL_SOCKET = '/var/run/convoy/convoy.sock';

/** Request bodies larger than this are refused with 413. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

export interface ApiError {
  code: string;
  message: string;
  hint?: string;
}

/** Every non-2xx response: `{ "error": ApiError }`. */
export interface ErrorBody {
  error: ApiError;
}

export interface Volume {
  name: string;
  uuid: string;
  driver: string;
  createdAt: string;
  size?: number;
  mountpoint?: string;
  mountedBy: string[];
  /** 'creating': not finished (being created or restored, or its creator stopped first): cannot be mounted. Absent: ready. */
  state?: 'creating';
  status?: Record<string, unknown>;
}

/**
 * `GET /v1/volumes`: the volumes whose records could be read; `problems` (only when there are
 * any) has an error for each that could not — a corrupt record, named, with a hint.
 */
export interface ListVolumesResponse {
  volumes: Volume[];
  problems?: ApiError[];
}

export interface Snapshot {
  name: string;
  uuid: string;
  volume: string;
  driver: string;
  createdAt: string;
  size?: number;
}

/** `GET /v1/snapshots`: as ListVolumesResponse, for snapshots. */
export interface ListSnapshotsResponse {
  snapshots: Snapshot[];
  problems?: ApiError[];
}

export interface BackupSummary {
  id: string;
  volume: string;
  created: string;
  snapshot: string | null;
  size: number;
  parent: string | null;
  labels: Record<string, string>;
  /** Ready-made backup URL. */
  url: string;
  stats: Record<string, number>;
}

export interface InfoResponse {
  version: string;
  host: string;
  root: string;
  defaultDriver: string;
  drivers: Record<string, unknown>;
  mounted: string[];
}

export interface CreateVolumeRequest {
  name: string;
  driver?: string;
  /** "10G", "512M" or bytes. */
  size?: string;
  /** A backup URL to create the volume from. */
  backup?: string;
  options?: Record<string, string>;
}

export interface MountRequest {
  mountpoint?: string;
}

export interface MountResponse {
  mountpoint: string;
}

export interface CreateSnapshotRequest {
  volume: string;
  name?: string;
}

export interface CreateBackupRequest {
  snapshot: string;
  dest: string;
  labels?: Record<string, string>;
}

export interface CreateBackupResponse {
  url: string;
  id: string;
}

/** `GET /v1/backups/inspect?url=URL`: the summary plus the backup's manifest as stored. */
export interface InspectBackupResponse extends BackupSummary {
  manifest: Record<string, unknown>;
}

export interface DeleteBackupResponse {
  blocksDeleted: number;
  blockMapsDeleted: number;
  blocksKept: number;
  /** Format v2: blocks are freed by the store's maintenance, not by the delete (then the counts are 0). */
  collectedBy?: 'delete' | 'maintenance';
  /** The backup was already deleted (an earlier delete was interrupted): nothing left to do. */
  alreadyDeleted?: boolean;
}

/** Progress of long work, streamed as NDJSON when the client sends `Accept: application/x-ndjson`. */
export interface ProgressEvent {
  type: 'progress';
  phase: string;
  bytesDone: number;
  bytesTotal: number;
  blocksDone: number;
  blocksTotal: number;
  bytesTransferred: number;
}

/** The last NDJSON line of a streamed request. */
export type StreamEnd<T> = { type: 'result'; result: T } | { type: 'error'; error: ApiError };

export const NDJSON = 'application/x-ndjson';
