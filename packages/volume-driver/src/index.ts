export type {
  BackupRequest,
  CreateVolumeRequest,
  RemoveVolumeRequest,
  RestoreRequest,
  SnapshotInfo,
  Tombstone,
  VolumeDriver,
  VolumeInfo,
} from './driver.js';
