// The parent of a directory backup: the backup whose index feeds the files cache.
import {
  BlockstoreError,
  chooseParentBackup,
  isDirectoryManifest,
  readManifest,
  type Manifest,
  type OpenedStore,
} from '@convoy/blockstore';
import type { FileIndexReader } from '@convoy/fileindex';
import { openIndex, readPackMap } from './store-io.js';
import type { PackMap } from './pack-map.js';

export interface DirectoryParent {
  manifest: Manifest;
  reader: FileIndexReader;
  /** Where the parent's small chunks lie (its pack map), when it has packs. */
  packs: PackMap | undefined;
}

/**
 * The parent of a directory backup (@convoy/blockstore's chooseParentBackup): a readable directory
 * backup whose manifest and index root read; a block image is no parent, a corrupt index skips one.
 */
export function chooseDirectoryParent(
  opened: OpenedStore,
  volume: string,
  ids: readonly string[],
  wanted: string | null | undefined,
  signal: AbortSignal | undefined,
): Promise<DirectoryParent | undefined> {
  return chooseParentBackup({
    ids,
    wanted,
    read: async (id) => {
      const manifest = await readManifest(opened.store, volume, id, signal);
      if (!isDirectoryManifest(manifest) || manifest.files === undefined) return undefined;
      return {
        manifest,
        reader: await openIndex(opened, manifest as Manifest & { files: NonNullable<Manifest['files']> }, signal),
        packs: await readPackMap(opened, manifest, signal),
      };
    },
    incompatible: (id) =>
      new BlockstoreError(
        'CONVOY_BACKUP_INCOMPATIBLE',
        `backup ${id} of ${volume} is a block image; a directory backup cannot take its files from it`,
        {
          hint: 'name a directory backup as the parent, or none',
        },
      ),
    alsoSkip: ['CONVOY_FILEINDEX_CORRUPT'],
  });
}
