export type {
  BackupRequest,
  CreateVolumeRequest,
  ListOptions,
  RemoveVolumeRequest,
  RestoreRequest,
  SnapshotInfo,
  VolumeDriver,
  VolumeInfo,
} from '@convoy/volume-driver';
export { VolumeManager } from './manager.js';
export { VOLUME_OPTION_KEYS } from './create-options.js';
export type { Caller, CreateOptions, ManagedSnapshot, ManagedVolume, ManagerOptions, SnapshotListing, VolumeListing } from './types.js';
export { VolumeError } from './errors.js';
export type { BackupListing, InspectedBackup } from './backups.js';
export { MountRefs } from './mount-refs.js';
export { createDriver, driverLocation, type DriverConfig } from './registry.js';
