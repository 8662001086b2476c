// listDirectory: a directory backup's entries (all, or one path and its subtree) without restoring.
import { readHeader, type Manifest } from '@convoy/blockstore';
import { ConvoyError } from '@convoy/errors';
import { assertSafePath, type FileEntry } from '@convoy/fileindex';
import type { ObjectStore } from '@convoy/objectstore';
import { openIndex, readDirectoryManifest } from './store-io.js';

export interface DirectoryListOptions {
  store: ObjectStore;
  volume: string;
  id: string;
  /** Only this path and what lies under it ('' or absent: everything). */
  path?: string;
  signal?: AbortSignal;
}

/** The backup's manifest and its entries in tree order; a path the backup lacks is CONVOY_BACKUP_PATH_NOT_FOUND. */
export async function listDirectory(options: DirectoryListOptions): Promise<{ manifest: Manifest; entries: AsyncGenerator<FileEntry> }> {
  const path = options.path ?? '';
  if (path !== '') assertSafePath(path, 'the path to list');
  const opened = await readHeader(options.store, options.signal);
  const manifest = await readDirectoryManifest(opened, options.volume, options.id, options.signal);
  const reader = await openIndex(opened, manifest, options.signal);
  if (path !== '' && (await reader.lookup(path)) === undefined) {
    throw new ConvoyError(
      'CONVOY_BACKUP_PATH_NOT_FOUND',
      `backup ${manifest.id} of ${manifest.volume} holds nothing at ${JSON.stringify(path)}`,
      { details: { path } },
    );
  }
  return { manifest, entries: reader.list(path) };
}
