// A Rancher Convoy v0.5.2 devicemapper ("deltablock") backup imported as a block-image backup of
// ours: the one function importRancherStore calls for those. The backup is restored, every block
// checked against its checksum (deltablock.ts), into a sparse file in a private temporary
// directory, which is then backed up with @convoy/blockstore's backupVolume (incremental on the
// volume's newest backup in the destination, so unchanged blocks are neither stored nor sent
// again). The temporary file goes whatever happens.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileSource, backupVolume, type Compression, type Manifest, type ProgressCallback } from '@convoy/blockstore';
import type { ObjectStore } from '@convoy/objectstore';
import { restoreRancherDeltablock } from './deltablock.js';
import type { RancherBackupInfo } from './list.js';

export interface RancherDeltablockImport {
  source: ObjectStore;
  dest: ObjectStore;
  backup: RancherBackupInfo;
  /** What the backup of ours records of its origin (import.ts, importLabels). */
  labels: Record<string, string>;
  compression?: Compression | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ProgressCallback | undefined;
}

export async function importRancherDeltablock(i: RancherDeltablockImport): Promise<Manifest> {
  const { volume, name, snapshot } = i.backup;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-import-'));
  try {
    const image = path.join(dir, 'volume.img');
    await restoreRancherDeltablock({ store: i.source, volume, name, target: image, signal: i.signal });
    const source = await FileSource.open(image);
    try {
      const { manifest } = await backupVolume({
        store: i.dest,
        volume,
        source,
        snapshot,
        labels: i.labels,
        parent: 'latest',
        ...(i.compression === undefined ? {} : { compression: i.compression }),
        signal: i.signal,
        onProgress: i.onProgress,
      });
      return manifest;
    } finally {
      await source.close();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
