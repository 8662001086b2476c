import { parseStoreUrl } from '@convoy/objectstore';
import { BlockstoreError, invalidInput } from './errors.js';
import { validateBackupId } from './format/names.js';
import { validateVolumeName } from '@convoy/rules';

export interface BackupRef {
  /** The store URL without query parameters. */
  storeUrl: string;
  volume: string;
  id: string;
}

/** `<store location>?backup=<id>&volume=<volume>`, as Rancher Convoy printed backup URLs. */
export function formatBackupUrl(storeLocation: string, volume: string, id: string): string {
  return `${storeLocation}?backup=${encodeURIComponent(id)}&volume=${encodeURIComponent(volume)}`;
}

/** A backup of Rancher Convoy v0.5.2 (its `backup-<16 hex>` names), in a store it wrote. */
export interface RancherBackupRef {
  format: 'rancher-convoy-v0.5.2';
  /** The store URL without query parameters. */
  storeUrl: string;
  volume: string;
  /** Convoy's backup name, e.g. backup-f12db86493774ab7. */
  name: string;
}

/** Either kind of backup a URL may name. */
export type AnyBackupRef = ({ format: 'convoy' } & BackupRef) | RancherBackupRef;

const RANCHER_BACKUP_NAME = /^backup-[0-9a-f]{16}$/;

/** Whether `id` is a Rancher Convoy v0.5.2 backup name (`backup-` + 16 hex digits) rather than one of ours. */
export function isRancherBackupName(id: string): boolean {
  return RANCHER_BACKUP_NAME.test(id);
}

/**
 * A backup URL of either kind: ours, or Rancher Convoy v0.5.2's exactly as it printed them
 * (`vfs:///mnt/bk?backup=backup-f12db86493774ab7\u0026volume=vol1`, or with `&`). For the commands
 * that restore or list, which read both.
 */
export function parseAnyBackupUrl(url: string): AnyBackupRef {
  const { storeUrl, volume, id } = splitBackupUrl(url);
  validateVolumeName(volume);
  if (isRancherBackupName(id)) return { format: 'rancher-convoy-v0.5.2', storeUrl, volume, name: id };
  validateBackupId(id);
  return { format: 'convoy', storeUrl, volume, id };
}

/**
 * A URL of one of our backups. A Rancher Convoy v0.5.2 backup URL is refused with
 * CONVOY_RANCHER_BACKUP_READ_ONLY (saying which commands read those), not as a malformed id.
 */
export function parseBackupUrl(url: string): BackupRef {
  const ref = parseAnyBackupUrl(url);
  if (ref.format === 'rancher-convoy-v0.5.2') {
    throw new BlockstoreError(
      'CONVOY_RANCHER_BACKUP_READ_ONLY',
      `${ref.name} is a Rancher Convoy v0.5.2 backup: this command handles only backups made by this Convoy`,
      {
        hint: 'list it with `convoy-backup list STORE`, restore it with `convoy-backup restore URL TARGET` (a directory for its vfs backups, a file or device for devicemapper ones) or `convoy create NAME --backup URL`',
      },
    );
  }
  return { storeUrl: ref.storeUrl, volume: ref.volume, id: ref.id };
}

function splitBackupUrl(url: string): BackupRef {
  const { params } = parseStoreUrl(url);
  const id = params.get('backup');
  const volume = params.get('volume');
  if (id === null || volume === null) {
    throw invalidInput(
      `${url.split('?')[0]} is a store, not a backup`,
      'a backup URL ends in ?backup=ID&volume=NAME, as `convoy-backup create` prints it',
    );
  }
  return { storeUrl: url.slice(0, url.indexOf('?')), volume, id };
}
