// A Rancher Convoy v0.5.2 devicemapper ("deltablock") backup imported as a block-image backup of
// ours: the one function importRancherStore calls for those. Until the deltablock reader lands in
// this directory it refuses with CONVOY_RANCHER_DELTABLOCK_UNSUPPORTED, which the import reports as
// "skipped" (not a failure of the run); a later run imports them, since nothing was recorded.
// With the reader: open the backup's blocks as a block source of the volume's size and call
// @convoy/blockstore's backupVolume({ store: dest, volume, source, snapshot, labels, parent: 'latest' }).
import type { Compression, Manifest, ProgressCallback } from '@convoy/blockstore';
import { ConvoyError } from '@convoy/errors';
import type { ObjectStore } from '@convoy/objectstore';
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

export function importRancherDeltablock(i: RancherDeltablockImport): Promise<Manifest> {
  const { volume, name } = i.backup;
  return Promise.reject(
    new ConvoyError(
      'CONVOY_RANCHER_DELTABLOCK_UNSUPPORTED',
      `${name} of volume ${volume} is a Rancher Convoy devicemapper (deltablock) backup: it is not imported yet`,
      {
        hint: 'run the import again with a later release (it imports only what is missing), or restore it with Rancher Convoy v0.5.2 and back the volume up with this Convoy',
        details: { volume, name },
      },
    ),
  );
}
