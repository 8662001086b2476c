export { backupDirectory, type DirectoryBackupOptions, type DirectoryBackupResult, type DirectoryStats } from './backup.js';
export { restoreDirectory, type DirectoryRestoreOptions, type DirectoryRestoreResult } from './restore.js';
export { listDirectory, type DirectoryListOptions } from './list.js';
export { chunkerOf, openIndex, readDirectoryManifest } from './store-io.js';
export type { FileEntry } from '@convoy/fileindex';
