export { VfsDriver, type VfsDriverOptions } from './vfs-driver.js';
export { VfsError } from './errors.js';
export type { BackupRequest, CreateVolumeRequest, RemoveVolumeRequest, RestoreRequest, SnapshotInfo, Tombstone, VolumeInfo } from './types.js';
