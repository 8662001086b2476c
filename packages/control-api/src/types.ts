/**
 * The control API of convoy-daemon: HTTP/1.1 + JSON over a unix socket (default
 * /var/run/convoy/convoy.sock, mode 0660). The `convoy` CLI is its client. docs/control-api.md
 * lists the routes; these are the bodies, each as one zod schema that the daemon parses requests
 * with and the client parses answers with, and the TypeScript type inferred from it. Requests are
 * strict (an unknown field is a 400, so a typo is never ignored); answers are loose (a newer
 * daemon may add fields).
 */
import { z } from 'zod';

/** Where convoy-daemon listens for the control API unless told otherwise (`--socket`). */
export const DEFAULT_CONTROL_SOCKET = '/var/run/convoy/convoy.sock';

/** Request bodies larger than this are refused with 413. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

const stringMap = z.record(z.string(), z.string());

export const ApiErrorSchema = z.looseObject({ code: z.string(), message: z.string(), hint: z.string().optional() });
export type ApiError = z.infer<typeof ApiErrorSchema>;

/** Every non-2xx response: `{ "error": ApiError }`. */
export const ErrorBodySchema = z.looseObject({ error: ApiErrorSchema });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const VolumeSchema = z.looseObject({
  name: z.string(),
  uuid: z.string(),
  driver: z.string(),
  createdAt: z.string(),
  size: z.number().optional(),
  mountpoint: z.string().optional(),
  mountedBy: z.array(z.string()),
  /** 'creating': not finished (being created or restored, or its creator stopped first): cannot be mounted. Absent: ready. */
  state: z.literal('creating').optional(),
  status: z.record(z.string(), z.unknown()).optional(),
});
export type Volume = z.infer<typeof VolumeSchema>;

/**
 * `GET /v1/volumes`: the volumes whose records could be read; `problems` (only when there are
 * any) has an error for each that could not — a corrupt record, named, with a hint.
 */
// problems stay unknown[] here: the client reports a malformed one rather than refusing the list.
export const ListVolumesResponseSchema = z.looseObject({ volumes: z.array(VolumeSchema), problems: z.array(z.unknown()).optional() });
export type ListVolumesResponse = z.infer<typeof ListVolumesResponseSchema>;

export const SnapshotSchema = z.looseObject({
  name: z.string(),
  uuid: z.string(),
  volume: z.string(),
  driver: z.string(),
  createdAt: z.string(),
  size: z.number().optional(),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** `GET /v1/snapshots`: as ListVolumesResponse, for snapshots. */
export const ListSnapshotsResponseSchema = z.looseObject({ snapshots: z.array(SnapshotSchema), problems: z.array(z.unknown()).optional() });
export type ListSnapshotsResponse = z.infer<typeof ListSnapshotsResponseSchema>;

export const BackupSummarySchema = z.looseObject({
  id: z.string(),
  volume: z.string(),
  created: z.string(),
  snapshot: z.string().nullable(),
  size: z.number(),
  parent: z.string().nullable(),
  labels: stringMap,
  /** Ready-made backup URL. */
  url: z.string(),
  stats: z.record(z.string(), z.number()),
  /** `rancher-convoy-v0.5.2` for a backup the original Rancher Convoy made (absent for ours). */
  format: z.string().optional(),
  /** A Rancher Convoy backup's driver: `vfs` or `devicemapper`. */
  driver: z.string().optional(),
  /** A Rancher Convoy backup as Convoy showed it: BackupName, BackupURL, CreatedTime, DriverName, SnapshotCreatedAt, SnapshotName, VolumeCreatedAt, VolumeName, VolumeSize. */
  convoy: z.record(z.string(), z.string()).optional(),
});
export type BackupSummary = z.infer<typeof BackupSummarySchema>;

/** `GET /v1/backups?dest=URL`: ours and Rancher Convoy v0.5.2's, oldest first; unreadable ones in `problems`. */
export const ListBackupsResponseSchema = z.looseObject({
  backups: z.array(BackupSummarySchema),
  problems: z.array(z.unknown()).optional(),
});
export type ListBackupsResponse = z.infer<typeof ListBackupsResponseSchema>;

export const InfoResponseSchema = z.looseObject({
  version: z.string(),
  host: z.string(),
  root: z.string(),
  defaultDriver: z.string(),
  drivers: z.record(z.string(), z.unknown()),
  mounted: z.array(z.string()),
});
export type InfoResponse = z.infer<typeof InfoResponseSchema>;

export const CreateVolumeRequestSchema = z.strictObject({
  name: z.string(),
  driver: z.string().optional(),
  /** "10G", "512M" or bytes. */
  size: z.string().optional(),
  /** A backup URL to create the volume from. */
  backup: z.string().optional(),
  /** A snapshot to create the volume as a copy of (not with backup). */
  snapshot: z.string().optional(),
  options: stringMap.optional(),
});
export type CreateVolumeRequest = z.infer<typeof CreateVolumeRequestSchema>;

export const MountRequestSchema = z.strictObject({ mountpoint: z.string().optional() });
export type MountRequest = z.infer<typeof MountRequestSchema>;

export const MountResponseSchema = z.looseObject({ mountpoint: z.string() });
export type MountResponse = z.infer<typeof MountResponseSchema>;

export const CreateSnapshotRequestSchema = z.strictObject({ volume: z.string(), name: z.string().optional() });
export type CreateSnapshotRequest = z.infer<typeof CreateSnapshotRequestSchema>;

export const CreateBackupRequestSchema = z.strictObject({ snapshot: z.string(), dest: z.string(), labels: stringMap.optional() });
export type CreateBackupRequest = z.infer<typeof CreateBackupRequestSchema>;

export const CreateBackupResponseSchema = z.looseObject({ url: z.string(), id: z.string() });
export type CreateBackupResponse = z.infer<typeof CreateBackupResponseSchema>;

/** `GET /v1/backups/inspect?url=URL`: the summary plus the backup's manifest as stored (a Rancher Convoy backup: `convoy` instead). */
export const InspectBackupResponseSchema = BackupSummarySchema.extend({ manifest: z.record(z.string(), z.unknown()).optional() });
export type InspectBackupResponse = z.infer<typeof InspectBackupResponseSchema>;

export const DeleteBackupResponseSchema = z.looseObject({
  blocksDeleted: z.number(),
  blockMapsDeleted: z.number(),
  blocksKept: z.number(),
  /** Format v2: blocks are freed by the store's maintenance, not by the delete (then the counts are 0). */
  collectedBy: z.enum(['delete', 'maintenance']).optional(),
  /** The backup was already deleted (an earlier delete was interrupted): nothing left to do. */
  alreadyDeleted: z.boolean().optional(),
});
export type DeleteBackupResponse = z.infer<typeof DeleteBackupResponseSchema>;

/** The answer of requests that return nothing (delete, umount): `{}`. */
export const EmptyResponseSchema = z.looseObject({});

/** Progress of long work, streamed as NDJSON when the client sends `Accept: application/x-ndjson`. */
export const ProgressEventSchema = z.looseObject({
  type: z.literal('progress'),
  phase: z.string(),
  bytesDone: z.number(),
  bytesTotal: z.number(),
  blocksDone: z.number(),
  blocksTotal: z.number(),
  bytesTransferred: z.number(),
});
export type ProgressEvent = z.infer<typeof ProgressEventSchema>;

/** The last NDJSON line of a streamed request. */
export type StreamEnd<T> = { type: 'result'; result: T } | { type: 'error'; error: ApiError };

export const NDJSON = 'application/x-ndjson';

/** `POST /v1/schedules`: back the volume up on a schedule (every or cron, UTC), keeping what `keep` says. */
export const SetScheduleRequestSchema = z.strictObject({
  volume: z.string(),
  dest: z.string(),
  every: z.string().optional(),
  cron: z.string().optional(),
  keep: z
    .strictObject({
      last: z.number().int().optional(),
      hourly: z.number().int().optional(),
      daily: z.number().int().optional(),
      weekly: z.number().int().optional(),
      monthly: z.number().int().optional(),
      yearly: z.number().int().optional(),
      within: z.string().optional(),
    })
    .optional(),
});
export type SetScheduleRequest = z.infer<typeof SetScheduleRequestSchema>;

export const ScheduleSchema = z.looseObject({
  volume: z.string(),
  dest: z.string(),
  every: z.string().optional(),
  cron: z.string().optional(),
  keep: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
  createdAt: z.string(),
  /** Milliseconds since the epoch. */
  nextRun: z.number(),
  running: z.boolean().optional(),
  lastRun: z
    .looseObject({
      at: z.string(),
      outcome: z.enum(['ok', 'failed']),
      url: z.string().optional(),
      removed: z.number().optional(),
      error: z.looseObject({ code: z.string(), message: z.string() }).optional(),
    })
    .optional(),
});
export type Schedule = z.infer<typeof ScheduleSchema>;
export const ListSchedulesResponseSchema = z.looseObject({ schedules: z.array(ScheduleSchema) });
