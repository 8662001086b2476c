// restoreRancherBackup: one of Rancher Convoy v0.5.2's vfs backups (a tar.gz of the volume's
// directory) into an empty directory, streamed from the store in ranges (never whole in memory).
import type { ProgressCallback } from '@convoy/blockstore';
import { ConvoyError } from '@convoy/errors';
import type { ObjectStore } from '@convoy/objectstore';
import { openRestoreWork } from '../target-dir.js';
import { archiveCorrupt, extractTarGz } from './extract.js';
import { rancherArchiveKey } from './layout.js';
import { inspectRancherBackup, type RancherBackupInfo } from './list.js';
import { rancherCorrupt, readRancherBackup } from './records.js';
import { rancherBackupKey } from './layout.js';

const RANGE = 8 * 1024 * 1024;

export interface RancherRestoreOptions {
  store: ObjectStore;
  volume: string;
  /** Convoy's backup name (backup-<16 hex>). */
  name: string;
  /** An empty directory, or a path that does not exist yet. */
  target: string;
  /** Write into the target itself (default: a temporary directory beside it, renamed over it at the end). */
  inPlace?: boolean;
  /** Restore owners and device nodes (default: when running as root). */
  owners?: boolean;
  signal?: AbortSignal | undefined;
  onProgress?: ProgressCallback | undefined;
}

export interface RancherRestoreResult {
  backup: RancherBackupInfo;
  entries: number;
  files: number;
  bytesWritten: number;
  bytesFetched: number;
}

/**
 * The backup's record, checked restorable: a vfs archive that is there. CONVOY_BACKUP_NOT_FOUND,
 * CONVOY_BACKUP_INCOMPATIBLE (a devicemapper backup: a block image) or CONVOY_RANCHER_RECORD_CORRUPT
 * otherwise. Nothing is written.
 */
export async function checkRancherBackup(
  store: ObjectStore,
  volume: string,
  name: string,
  signal?: AbortSignal,
): Promise<{ info: RancherBackupInfo; archiveKey: string }> {
  const described = await inspectRancherBackup(store, volume, name, signal);
  if (described.driver === 'devicemapper') {
    throw new ConvoyError(
      'CONVOY_BACKUP_INCOMPATIBLE',
      `${name} of volume ${volume} is a Rancher Convoy devicemapper (deltablock) backup, a block image, not a directory`,
      {
        hint: 'restore it into a file or block device (convoy-backup restore URL FILE) or a devicemapper volume (--driver devicemapper)',
        details: { volume, name },
      },
    );
  }
  const b = await readRancherBackup(store, volume, name, signal);
  const archiveKey = rancherArchiveKey(volume, name);
  if (b?.SingleFile?.FilePath !== archiveKey) {
    throw rancherCorrupt(
      rancherBackupKey(volume, name),
      `its archive path ${JSON.stringify(b?.SingleFile?.FilePath)} is not ${archiveKey}`,
    );
  }
  const st = await store.stat(archiveKey, { signal });
  if (st === undefined) throw archiveCorrupt(archiveKey, 'the archive is missing from the store');
  return { info: { ...described, size: st.size }, archiveKey };
}

export async function restoreRancherBackup(options: RancherRestoreOptions): Promise<RancherRestoreResult> {
  const { store, signal } = options;
  const { info, archiveKey } = await checkRancherBackup(store, options.volume, options.name, signal);
  const out = await openRestoreWork(options.target, options.inPlace === true);
  let fetched = 0;
  // The archive's own size is the only total known before it is unpacked: progress counts its bytes.
  const progress = (): void =>
    options.onProgress?.({
      phase: 'restore',
      bytesDone: fetched,
      bytesTotal: info.size,
      blocksDone: 0,
      blocksTotal: 0,
      bytesTransferred: fetched,
    });
  async function* ranges(): AsyncGenerator<Uint8Array> {
    while (fetched < info.size) {
      const data = await store.get(archiveKey, { range: { offset: fetched, length: Math.min(RANGE, info.size - fetched) }, signal });
      if (data.length === 0) throw archiveCorrupt(archiveKey, `the archive ends at ${fetched} of ${info.size} bytes`);
      fetched += data.length;
      yield data;
    }
  }
  let done = false;
  try {
    const r = await extractTarGz(ranges(), out.dir, { source: archiveKey, owners: options.owners, signal, onFile: () => progress() });
    await out.commit();
    progress();
    done = true;
    return { backup: info, ...r, bytesFetched: fetched };
  } finally {
    if (!done) await out.abandon();
  }
}
