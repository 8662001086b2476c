export { backupVolume, type BackupOptions, type BackupResult } from './backup.js';
export { restoreBackup, type RestoreOptions, type RestoreResult } from './restore.js';
export {
  checkDeviceSize,
  finishTarget,
  openTarget,
  removeStaleTempFiles,
  tempFileName,
  writeFully,
  type OpenTarget,
} from './restore-target.js';
export { deleteBackup, type DeleteOptions, type DeleteResult } from './delete.js';
export { collectGarbage, type GcResult } from './gc.js';
export { runMaintenance, lastFullTime, type MaintenanceOptions, type MaintenanceResult } from './maintenance/maintenance.js';
export type { MergeStats } from './maintenance/merge.js';
export type { SweepStats } from './maintenance/sweep.js';
export { upgradeStore, type UpgradeOptions, type UpgradeResult } from './upgrade.js';
export { verifyStore, type StoreCheckOptions, type VerifyOptions, type VerifyProblem, type VerifyResult } from './verify.js';
export { repairStore, type RepairOptions, type RepairResult, type StillDamaged } from './repair.js';
export { listBackupIds, listAllBackups, listManifests, latestBackupId } from './list.js';
export { acquireLock, StoreLock, type LockOptions } from './lock.js';
export { listLeases, type LeaseInfo, type LockBody, type LockKind } from './lease-records.js';
export { systemClock, FakeClock, type Clock } from './clock.js';
export { FileSource, parseExtents, type Extent, type SnapshotSource } from './source.js';
export { HoleMap, nextData } from './holes.js';
export {
  formatBackupUrl,
  isRancherBackupName,
  parseAnyBackupUrl,
  parseBackupUrl,
  type AnyBackupRef,
  type BackupRef,
  type RancherBackupRef,
} from './url.js';
export type { Progress, ProgressCallback } from './progress.js';
export { BlockstoreError, blockMissing } from './errors.js';
export { COMPRESSIONS, parseCompression, type Compression } from './format/codec.js';
export {
  readHeader,
  openOrInitStore,
  parseHeader,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_GC,
  FORMAT_VERSION,
  type GcParams,
  type StoreHeader,
  type OpenedStore,
} from './format/header.js';
export {
  readManifest,
  readBlockMap,
  readVolumeRecord,
  writeVolumeRecord,
  parseManifest,
  isDirectoryManifest,
  type Manifest,
  type VolumeRecord,
  type BackupStats,
} from './format/manifest.js';
export { BlockMap, BlockMapBuilder, type BlockEntry } from './format/block-map.js';
export { encodeBlock, decodeBlock } from './format/block-object.js';
export { blockIdFunction, hmacIds, SHA256, type BlockIdFunction } from './format/block-id.js';
export { blockKey, manifestKey, blockMapKey, filesKey, volumeKey, addMarkerKey, delMarkerKey, HEADER_KEY } from './format/layout.js';
export { validateBackupId, newBackupId } from './format/names.js';
// For other kinds of backup built on this format (@convoy/dirbackup): the commit path, the GC
// safety hooks and verified block reads, so every kind follows the same write order.
export { afterCommit, commitBackup, goneFromSource, putOnce, type CommitOptions } from './commit.js';
export { chooseParentBackup, type ParentChoice } from './parent.js';
export { sweepsDoneAtStart, type GuardResult } from './gc/commit-guard.js';
export { clearDamaged, listDamaged } from './gc/damaged.js';
export { IdSet } from './id-claims.js';
export { asBlockCorrupt, fetchBlock } from './block-reader.js';
export { EncryptedStore, isPlainKey } from './crypto/encrypted-store.js';
export {
  addKey,
  changeKey,
  initStore,
  listKeys,
  removeKey,
  unlockStore,
  type InitOptions,
  type KeyCache,
  type KeyInfo,
  type UnlockOptions,
  type PassphraseSource,
} from './crypto/keyring.js';
export { DEFAULT_KDF, type KdfParams } from './crypto/master-key.js';
export { readPassphraseFile, type PassphraseFileProblem } from './crypto/passphrase-file.js';
export type { EncryptionParams } from './crypto/params.js';
export { forEachIndex } from './pool.js';
export { applyRetention, checkPolicy, withinStart, type RetentionDecision, type RetentionItem, type RetentionPolicy } from './retention.js';
export { storeStats, type StoreStats, type UsageStats } from './stats.js';
export { forgetBackups, type ForgetItem } from './forget.js';
