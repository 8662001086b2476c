export type {
  BackupRequest,
  CreateVolumeRequest,
  ListOptions,
  RemoveVolumeRequest,
  RestoreRequest,
  SnapshotInfo,
  Tombstone,
  VolumeDriver,
  VolumeInfo,
} from './driver.js';
