// How the daemon opens backup stores: the URL's store, unlocked with the passphrase of encrypted
// stores (backupPasswordFile, else $CONVOY_PASSWORD). A store's key is derived once per daemon
// (scrypt costs ~0.1 s and 32 MiB) and kept in memory, never logged.
import { readPassphraseFile, unlockStore, type KeyCache } from '@convoy/blockstore';
import { ConvoyError } from '@convoy/errors';
import { openStore, type ObjectStore, type S3StoreOptions } from '@convoy/objectstore';
import type { DaemonConfig } from './config.js';
import { checkVfsStoreRoot } from './store-roots.js';

export interface StoreOpenerOptions {
  s3: S3StoreOptions;
  passwordFile: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** Refuses URLs the daemon must not write to (checkVfsStoreRoots). */
  check?: (url: string) => void;
}

export type StoreOpener = (url: string) => Promise<ObjectStore>;

/** The passphrase, read when needed (so a rotated file is picked up); undefined when none is configured. */
export async function daemonPassphrase(o: Pick<StoreOpenerOptions, 'passwordFile' | 'env'>): Promise<string | undefined> {
  if (o.passwordFile !== undefined) {
    const file = o.passwordFile;
    return readPassphraseFile(
      file,
      (p) =>
        new ConvoyError(
          'CONVOY_PASSWORD_REQUIRED',
          p.kind === 'empty' ? `backupPasswordFile ${file} is empty` : `cannot read backupPasswordFile ${file}: ${p.reason}`,
          {
            hint: 'the file named by --backup-password-file (or backupPasswordFile in the config) must be readable by the daemon and hold the passphrase',
          },
        ),
    );
  }
  const env = o.env.CONVOY_PASSWORD;
  return env === undefined || env === '' ? undefined : env;
}

/** The daemon's opener: its S3 endpoint, its passphrase, and its vfs store roots enforced. */
export function daemonStoreOpener(config: DaemonConfig, env: Readonly<Record<string, string | undefined>>): StoreOpener {
  return storeOpener({
    s3: { endpoint: config.s3Endpoint },
    passwordFile: config.backupPasswordFile,
    env,
    check: (url) => checkVfsStoreRoot(url, config.vfsStoreRoots),
  });
}

export function storeOpener(o: StoreOpenerOptions): StoreOpener {
  const cache: KeyCache = new Map();
  return async (url) => {
    o.check?.(url);
    const store = await openStore(url, { s3: o.s3 });
    try {
      return await unlockStore(store, () => daemonPassphrase(o), { cache });
    } catch (err) {
      await store.close();
      throw err;
    }
  };
}
