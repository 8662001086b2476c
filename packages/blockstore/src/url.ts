import { parseStoreUrl } from '@convoy/objectstore';
import { invalidInput } from './errors.js';
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

export function parseBackupUrl(url: string): BackupRef {
  const { params } = parseStoreUrl(url);
  const id = params.get('backup');
  const volume = params.get('volume');
  if (id === null || volume === null) {
    throw invalidInput(
      `${url.split('?')[0]} is a store, not a backup`,
      'a backup URL ends in ?backup=ID&volume=NAME, as `convoy-backup create` prints it',
    );
  }
  validateBackupId(id);
  validateVolumeName(volume);
  return { storeUrl: url.slice(0, url.indexOf('?')), volume, id };
}
