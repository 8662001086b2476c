// A vfs volume's data to and from backups: a snapshot directory backed up as a directory backup
// (@convoy/dirbackup); a new volume's directory filled from one, from the tar-in-block-mode
// backup of an earlier release (label content=tar), or from a Rancher Convoy v0.5.2 vfs backup
// (a tar.gz in its own store layout), then synced.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isDirectoryManifest, isRancherBackupName, readManifest, restoreBackup } from '@convoy/blockstore';
import { execQuiet as run } from '@convoy/daemon-kit';
import { backupDirectory, checkRancherBackup, restoreDirectory, restoreRancherBackup } from '@convoy/dirbackup';
import type { BackupRequest, RestoreRequest } from '@convoy/volume-driver';
import { VfsError } from './errors.js';

export type RestoreKind = 'directory' | 'tar' | 'rancher';

/**
 * Refuses a backup this driver cannot restore (a block device image, a Rancher Convoy
 * devicemapper backup) before anything is created.
 */
export async function checkRestorable(req: RestoreRequest): Promise<RestoreKind> {
  if (isRancherBackupName(req.backupId)) {
    await checkRancherBackup(req.store, req.backupVolume, req.backupId, req.signal);
    return 'rancher';
  }
  const manifest = await readManifest(req.store, req.backupVolume, req.backupId, req.signal);
  if (isDirectoryManifest(manifest)) return 'directory';
  if (manifest.labels.content === 'tar') return 'tar';
  throw new VfsError('CONVOY_BACKUP_INCOMPATIBLE', `backup ${req.backupId} holds a block device image, not a vfs volume`, {
    hint: 'restore it with --driver devicemapper, or with convoy-backup restore into a file',
  });
}

/** Restores into `dir` (empty); `scratch` is where a tar archive may be written meanwhile. */
export async function restoreInto(req: RestoreRequest, kind: RestoreKind, dir: string, scratch: string): Promise<void> {
  const common = { store: req.store, volume: req.backupVolume, id: req.backupId, signal: req.signal, onProgress: req.onProgress };
  // in place: the volume record says the volume is incomplete until the restore finished
  if (kind === 'directory') await restoreDirectory({ ...common, target: dir, inPlace: true });
  else if (kind === 'rancher') await restoreRancherBackup({ ...common, name: req.backupId, target: dir, inPlace: true });
  else {
    const tmpDir = await fs.mkdtemp(path.join(scratch, 'restore-'));
    const archive = path.join(tmpDir, 'snapshot.tar');
    try {
      await restoreBackup({ ...common, target: archive });
      await run('tar', ['--extract', '--file', archive, '--numeric-owner', '--xattrs', '--acls', '--same-permissions', '-C', dir], {
        signal: req.signal,
      });
    } finally {
      await fs.rm(tmpDir, { recursive: true, force: true });
    }
  }
  // the files are on disk before the record says the volume is ready
  await run('sync', ['--file-system', '--', dir], { signal: req.signal });
}

/**
 * Backs the snapshot directory `dir` up as a directory backup: files cut into deduplicated chunks,
 * and files whose size and mtime match the volume's last directory backup not read at all.
 * Snapshots are `cp -a` copies (new inodes and ctimes each time), so the files cache compares size
 * and mtime only. Labels say how to restore it.
 */
export async function backupSnapshotDir(req: BackupRequest, dir: string): Promise<{ url: string; id: string }> {
  const { url, manifest } = await backupDirectory({
    store: req.store,
    volume: req.volume,
    dir,
    snapshot: req.snapshot,
    labels: { ...req.labels, driver: 'vfs', content: 'directory' },
    filesCache: { ctime: false, inode: false },
    signal: req.signal,
    onProgress: req.onProgress,
  });
  return { url, id: manifest.id };
}
