export { DevmapperDriver } from './driver.js';
export type { ThinVolumeInfo, ThinSnapshotInfo, PoolInfo } from './info.js';
export { DevmapperVolumeDriver } from './volume-driver.js';
export type { BackupSourceOptions, OpenedBackupSource, DriverBackupRequest, DriverBackupResult } from './backup.js';
export type { DriverRestoreRequest } from './restore.js';
export { DEVMAPPER_OPTION_KEYS, optionsFromDriverOpts, resolveOptions, type DevmapperDriverOptions, type FaultStep } from './options.js';
export type { ReconcileReport } from './reconcile.js';
export {
  DmError,
  isDmError,
  errnoName,
  DmTask,
  type DmApi,
  type DmInfo,
  type DmTarget,
  type DmDevice,
  type DmOperation,
} from './dm-api.js';
export { LibDmApi } from './libdm.js';
export { LIBDEVMAPPER } from './libdm-binding.js';
export { LinuxHostOps, mkfsArgs, mountOptions, type HostOps, type BlockDeviceInfo } from './host-ops.js';
export { ThinSnapshotSource } from './snapshot-source.js';
export { parseThinDelta, changedExtents, blocksTouched, type ThinDelta, type DeltaRange, type DeltaKind } from './thin-delta.js';
export { parsePoolStatus, parseThinStatus, type PoolStatus } from './pool-status.js';
export { DevmapperError, DM_UNAVAILABLE_HINT } from './errors.js';
