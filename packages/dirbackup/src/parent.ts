// The parent of a directory backup: the backup whose index feeds the files cache.
import { isDirectoryManifest, readManifest, BlockstoreError, type Manifest, type OpenedStore } from '@convoy/blockstore';
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
 * The given backup (it must be a readable directory backup), none, or by default the volume's
 * newest directory backup whose manifest and index root read: a damaged one is skipped (the
 * parent only saves reading), a block image is no parent.
 */
export async function chooseDirectoryParent(
  opened: OpenedStore,
  volume: string,
  ids: readonly string[],
  wanted: string | null | undefined,
  signal: AbortSignal | undefined,
): Promise<DirectoryParent | undefined> {
  if (wanted === null) return undefined;
  const read = async (id: string): Promise<DirectoryParent | undefined> => {
    const manifest = await readManifest(opened.store, volume, id, signal);
    if (!isDirectoryManifest(manifest) || manifest.files === undefined) return undefined;
    return {
      manifest,
      reader: await openIndex(opened, manifest as Manifest & { files: NonNullable<Manifest['files']> }, signal),
      packs: await readPackMap(opened, manifest, signal),
    };
  };
  if (wanted !== undefined && wanted !== 'latest') {
    const p = await read(wanted);
    if (p === undefined) {
      throw new BlockstoreError(
        'CONVOY_BACKUP_INCOMPATIBLE',
        `backup ${wanted} of ${volume} is a block image; a directory backup cannot take its files from it`,
        {
          hint: 'name a directory backup as the parent, or none',
        },
      );
    }
    return p;
  }
  for (let i = ids.length - 1; i >= 0; i--) {
    try {
      const p = await read(ids[i] as string);
      if (p !== undefined) return p;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (
        code !== 'CONVOY_MANIFEST_INVALID' &&
        code !== 'CONVOY_FORMAT_UNSUPPORTED' &&
        code !== 'CONVOY_BACKUP_NOT_FOUND' &&
        code !== 'CONVOY_FILEINDEX_CORRUPT'
      )
        throw err;
    }
  }
  return undefined;
}
