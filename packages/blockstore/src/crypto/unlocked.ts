// What the format layer asks of an encrypted store: that it was opened with the right key.
import type { ObjectStore } from '@convoy/objectstore';
import { BlockstoreError } from '../errors.js';
import type { BlockIdFunction } from '../format/block-id.js';
import { EncryptedStore } from './encrypted-store.js';
import { keyCheck } from './master-key.js';
import type { EncryptionParams } from './params.js';

export function passwordRequired(location: string): BlockstoreError {
  return new BlockstoreError('CONVOY_PASSWORD_REQUIRED', `the backup store ${location} is encrypted and no passphrase was given`, {
    hint: 'set CONVOY_PASSWORD, pass --password-file FILE, or run it on a terminal to be asked',
  });
}

/** The keyed block-id function of an encrypted store, which must have been unlocked with its key. */
export function keyedIds(store: ObjectStore, params: EncryptionParams): BlockIdFunction {
  if (!(store instanceof EncryptedStore)) throw passwordRequired(store.location);
  if (keyCheck(store.master) !== params.keyCheck || store.segmentSize !== params.segmentSize) {
    throw new BlockstoreError('CONVOY_PASSWORD_WRONG', `the key ${store.location} was opened with is not the key of its header`, {
      hint: 'open the store again; if this persists, its header or key files were replaced',
    });
  }
  return store.ids;
}
