export {
  RANCHER_FORMAT,
  hasRancherBackups,
  inspectRancherBackup,
  listRancherBackups,
  type RancherBackupInfo,
  type RancherListOptions,
} from './list.js';
export { checkRancherBackup, restoreRancherBackup, type RancherRestoreOptions, type RancherRestoreResult } from './restore.js';
export { parseRubyDate } from './records.js';
export { formatRubyDate, rancherBackupFields, type RancherBackupFields } from './fields.js';
export {
  IMPORT_LABEL,
  importLabels,
  importRancherStore,
  type RancherImportEvent,
  type RancherImportOptions,
  type RancherImportResult,
} from './import.js';
export {
  checkRancherDeltablock,
  restoreRancherDeltablock,
  type DeltablockRestoreOptions,
  type DeltablockRestoreResult,
} from './deltablock.js';
export { DELTABLOCK_SIZE, deltablockChecksum, deltablockKey } from './deltablock-format.js';
