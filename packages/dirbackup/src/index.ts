export { backupDirectory, type DirectoryBackupOptions, type DirectoryBackupResult, type DirectoryStats } from './backup.js';
export { restoreDirectory, type DirectoryRestoreOptions, type DirectoryRestoreResult } from './restore.js';
export { listDirectory, type DirectoryListOptions } from './list.js';
export { chunkerOf, openIndex, readDirectoryManifest } from './store-io.js';
export type { FileEntry } from '@convoy/fileindex';
// Rancher Convoy v0.5.2's vfs backup stores (read only): list, restore.
export * from './rancher/index.js';
