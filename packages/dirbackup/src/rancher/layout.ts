// Where Rancher Convoy v0.5.2 keeps its backups in a store (vfs directory or S3 bucket/prefix):
//   convoy-objectstore/volumes/<n[0:2]>/<n[2:4]>/<n>/volume.cfg
//   convoy-objectstore/volumes/<n[0:2]>/<n[2:4]>/<n>/backups/backup_<name>.cfg
//   convoy-objectstore/volumes/<n[0:2]>/<n[2:4]>/<n>/BackupFiles/<name>.bak     (vfs: gzip of a tar)
// with <n> the volume name padded with "!" to 4 characters.

export const RANCHER_BASE = 'convoy-objectstore';
export const RANCHER_VOLUMES = `${RANCHER_BASE}/volumes/`;

/** The key prefix of a volume's directory, without a trailing "/". */
export function rancherVolumeDir(volume: string): string {
  const n = volume.padEnd(4, '!');
  return `${RANCHER_VOLUMES}${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

export const rancherVolumeKey = (volume: string): string => `${rancherVolumeDir(volume)}/volume.cfg`;
export const rancherBackupKey = (volume: string, name: string): string => `${rancherVolumeDir(volume)}/backups/backup_${name}.cfg`;
export const rancherArchiveKey = (volume: string, name: string): string => `${rancherVolumeDir(volume)}/BackupFiles/${name}.bak`;

const BACKUP_KEY = /^convoy-objectstore\/volumes\/[^/]{2}\/[^/]{2}\/([^/]+)\/backups\/backup_([^/]+)\.cfg$/;

/** The padded volume directory name and the backup name a backup record's key holds, or undefined for any other key. */
export function parseRancherBackupKey(key: string): { paddedVolume: string; name: string } | undefined {
  const m = BACKUP_KEY.exec(key);
  return m === null ? undefined : { paddedVolume: m[1]!, name: m[2]! };
}
