import fs from 'node:fs/promises';
import { parseStoreUrl, type ObjectStore } from '@convoy/objectstore';
import { VolumeError } from './errors.js';

/**
 * Opens the backup store a URL names with `open`, for work that must find it there (list,
 * inspect, delete, restore): a vfs directory that does not exist is CONVOY_STORE_NOT_FOUND, never
 * created (openStore would create it). An s3 bucket is never created anyway: its open fails.
 */
export async function openExistingStore(url: string, open: (url: string) => Promise<ObjectStore>): Promise<ObjectStore> {
  const { location } = parseStoreUrl(url);
  if (location.kind === 'vfs') {
    const st = await fs.stat(location.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (st === undefined || !st.isDirectory()) {
      throw new VolumeError('CONVOY_STORE_NOT_FOUND', `no backup store at vfs://${location.path}: ${st === undefined ? 'the directory does not exist' : 'not a directory'}`, {
        hint: 'check the URL; a store is created by its first backup (convoy backup create SNAPSHOT --dest URL)',
        details: { path: location.path },
      });
    }
  }
  return open(url);
}
