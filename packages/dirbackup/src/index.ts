export { backupDirectory, type DirectoryBackupOptions, type DirectoryBackupResult, type DirectoryStats } from './backup.js';
export { restoreDirectory, type DirectoryRestoreOptions, type DirectoryRestoreResult } from './restore.js';
export { listDirectory, type DirectoryListOptions } from './list.js';
export { chunkerOf, openIndex, readDirectoryManifest } from './store-io.js';
export type { FileEntry } from '@convoy/fileindex';
export { listStoreBackups, type StoreBackups, type StoreListOptions } from './store-list.js';
// Rancher Convoy v0.5.2's vfs backup stores (read only): list, restore, inspect fields, import.
export * from './rancher/index.js';
