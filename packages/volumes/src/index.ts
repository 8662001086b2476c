export type { BackupRequest, CreateVolumeRequest, ListOptions, RemoveVolumeRequest, RestoreRequest, SnapshotInfo, VolumeDriver, VolumeInfo } from '@convoy/volume-driver';
export { VolumeManager, type Caller, type CreateOptions, type ManagedVolume, type ManagerOptions } from './manager.js';
export { VolumeError } from './errors.js';
export { MountRefs } from './mount-refs.js';
export { createDriver, type DriverConfig } from './registry.js';
