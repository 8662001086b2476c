// Creating an encrypted store, opening it with a passphrase, and managing its passphrases
// (docs/format.md, "Encryption"). Every change writes a new key file before it removes one, so a
// process killed at any point leaves every passphrase that worked before still working.
import { ObjectExistsError, ObjectNotFoundError, parseJsonBytes, type ObjectStore } from '@convoy/objectstore';
import { BlockstoreError } from '../errors.js';
import { DEFAULT_GC, DEFAULT_BLOCK_SIZE, encodeHeader, parseHeader, type GcParams, type StoreHeader } from '../format/header.js';
import { HEADER_KEY } from '../format/layout.js';
import type { Compression } from '../format/codec.js';
import { EncryptedStore, KEYS_PREFIX } from './encrypted-store.js';
import {
  DEFAULT_KDF,
  keyCheck,
  newMasterKey,
  parseKeyFile,
  unwrapMasterKey,
  wrapMasterKey,
  type KdfParams,
  type KeyFile,
  type MasterKey,
} from './master-key.js';
import { ENCRYPTED_BLOCK_ID, encryptionParams, type EncryptionParams } from './params.js';
import { passwordRequired } from './unlocked.js';

/** Where a passphrase comes from: asked for only when the store turns out to be encrypted. */
export type PassphraseSource = () => Promise<string | undefined>;

const keyFileKey = (id: string): string => `${KEYS_PREFIX}${id}.json`;

export interface KeyInfo {
  id: string;
  created: string;
  host: string;
  user: string;
  /** The store was opened with this key. */
  current: boolean;
}

async function readHeaderBytes(store: ObjectStore, signal?: AbortSignal): Promise<StoreHeader | undefined> {
  try {
    return parseHeader(await store.get(HEADER_KEY, { signal }));
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
}

/** Every key file, checked; a damaged one is reported, not skipped silently. */
async function readKeyFiles(store: ObjectStore, signal?: AbortSignal): Promise<{ keys: KeyFile[]; damaged: string[] }> {
  const keys: KeyFile[] = [];
  const damaged: string[] = [];
  for await (const o of store.list(KEYS_PREFIX, { signal })) {
    if (!o.key.endsWith('.json')) continue;
    try {
      keys.push(parseKeyFile(o.key, parseJsonBytes(await store.get(o.key, { signal }))));
    } catch (err) {
      if (err instanceof ObjectNotFoundError) continue; // removed while we listed
      if (err instanceof BlockstoreError || err instanceof SyntaxError || err instanceof TypeError) damaged.push(o.key);
      else throw err;
    }
  }
  keys.sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id));
  return { keys, damaged };
}

export interface InitOptions {
  compression: Compression;
  now: Date;
  /** A passphrase: the store is encrypted. Without one it is a plain v2 store. */
  passphrase?: string;
  kdf?: KdfParams;
  gc?: Partial<GcParams>;
  signal?: AbortSignal;
}

/**
 * Creates a store's header (and, encrypted, its first key file before it: a header never names a
 * key nobody holds). A store that has a header already is CONVOY_STORE_EXISTS.
 */
export async function initStore(store: ObjectStore, o: InitOptions): Promise<{ header: StoreHeader; keyId?: string }> {
  const exists = (): BlockstoreError =>
    new BlockstoreError('CONVOY_STORE_EXISTS', `${store.location} is a backup store already`, {
      hint: 'use it as it is; encryption is chosen when a store is created, so start a new store to change it',
    });
  if ((await readHeaderBytes(store, o.signal)) !== undefined) throw exists();
  let encryption: EncryptionParams | null = null;
  let keyFile: KeyFile | undefined;
  if (o.passphrase !== undefined) {
    const master = newMasterKey();
    encryption = encryptionParams(keyCheck(master), o.kdf ?? DEFAULT_KDF);
    keyFile = await wrapMasterKey(master, o.passphrase, encryption.kdf, o.now);
    await store.put(keyFileKey(keyFile.id), Buffer.from(`${JSON.stringify(keyFile, null, 2)}\n`), { ifAbsent: true, signal: o.signal });
  }
  const header: StoreHeader = {
    format: 'convoy-backupstore',
    version: 2,
    created: o.now.toISOString(),
    blockSize: DEFAULT_BLOCK_SIZE,
    blockId: { algorithm: encryption === null ? 'sha256' : ENCRYPTED_BLOCK_ID },
    compression: o.compression,
    gc: { ...DEFAULT_GC, ...o.gc },
    encryption,
  };
  try {
    await store.put(HEADER_KEY, encodeHeader(header), { ifAbsent: true, signal: o.signal });
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err;
    if (keyFile !== undefined) await store.delete([keyFileKey(keyFile.id)]).catch(() => undefined); // it names another store's key
    throw exists();
  }
  return { header, keyId: keyFile?.id };
}

/**
 * The store to read and write through: the store itself when it is plain or still empty, else
 * the store opened with the key the passphrase unwraps (CONVOY_PASSWORD_REQUIRED without one,
 * CONVOY_PASSWORD_WRONG when no key file opens with it).
 */
export async function unlockStore(store: ObjectStore, passphrase: PassphraseSource, o: UnlockOptions = {}): Promise<ObjectStore> {
  if (store instanceof EncryptedStore) return store;
  const header = await readHeaderBytes(store, o.signal);
  const params = header?.encryption;
  if (params === undefined || params === null) return store;
  const known = o.cache?.get(store.location);
  if (known !== undefined && keyCheck(known.master) === params.keyCheck) {
    return new EncryptedStore(store, known.master, params.segmentSize, known.keyId);
  }
  const pass = await passphrase();
  if (pass === undefined) throw passwordRequired(store.location);
  const opened = await openWithPassphrase(store, params, pass, o.signal);
  o.cache?.set(store.location, { master: opened.master, keyId: opened.keyId });
  return opened;
}

/** Keys found before, by store location: a long-running process derives each store's key once. */
export type KeyCache = Map<string, { master: MasterKey; keyId: string }>;

export interface UnlockOptions {
  signal?: AbortSignal | undefined;
  cache?: KeyCache;
}

async function openWithPassphrase(
  store: ObjectStore,
  params: EncryptionParams,
  pass: string,
  signal?: AbortSignal,
): Promise<EncryptedStore> {
  const { keys, damaged } = await readKeyFiles(store, signal);
  for (const k of keys) {
    const master = await unwrapMasterKey(k, pass);
    if (master !== undefined && keyCheck(master) === params.keyCheck) return new EncryptedStore(store, master, params.segmentSize, k.id);
  }
  if (keys.length === 0) {
    throw new BlockstoreError('CONVOY_FORMAT_INVALID', `the encrypted store ${store.location} has no readable key file`, {
      hint: damaged.length > 0 ? `damaged: ${damaged.join(', ')}` : 'its keys/ were removed: the backups cannot be decrypted',
      details: { damaged },
    });
  }
  throw new BlockstoreError(
    'CONVOY_PASSWORD_WRONG',
    `no key of the store ${store.location} opens with this passphrase (${keys.length} tried)`,
    {
      hint: 'check the passphrase (CONVOY_PASSWORD or --password-file)',
      details: { keys: keys.length, damaged },
    },
  );
}

export async function listKeys(store: ObjectStore, signal?: AbortSignal): Promise<{ keys: KeyInfo[]; damaged: string[] }> {
  const inner = store instanceof EncryptedStore ? store.inner : store;
  const { keys, damaged } = await readKeyFiles(inner, signal);
  const current = store instanceof EncryptedStore ? store.keyId : undefined;
  return { keys: keys.map((k) => ({ id: k.id, created: k.created, host: k.host, user: k.user, current: k.id === current })), damaged };
}

function encrypted(store: ObjectStore): EncryptedStore {
  if (store instanceof EncryptedStore) return store;
  throw new BlockstoreError('CONVOY_INVALID_ARGUMENT', `the store ${store.location} is not encrypted: it has no keys`, {
    hint: 'encryption is chosen when a store is created: `convoy-backup init STORE --encrypt`',
  });
}

/** Adds a passphrase: a new key file wrapping the same master key, read back before it is reported. */
export async function addKey(store: ObjectStore, passphrase: string, now: Date, signal?: AbortSignal): Promise<KeyInfo> {
  const s = encrypted(store);
  const header = await readHeaderBytes(s.inner, signal);
  const k = await wrapMasterKey(s.master, passphrase, header?.encryption?.kdf ?? DEFAULT_KDF, now);
  const key = keyFileKey(k.id);
  await s.inner.put(key, Buffer.from(`${JSON.stringify(k, null, 2)}\n`), { ifAbsent: true, signal });
  const back = parseKeyFile(key, parseJsonBytes(await s.inner.get(key, { signal })));
  const m = await unwrapMasterKey(back, passphrase);
  if (m === undefined || keyCheck(m) !== keyCheck(s.master)) {
    throw new BlockstoreError('CONVOY_STORE_WRITE_LOST', `the new key file ${key} does not read back as written`, {
      hint: 'the store did not keep the write; nothing was removed, the old passphrases still work',
      details: { key },
    });
  }
  return { id: k.id, created: k.created, host: k.host, user: k.user, current: false };
}

/** Removes a passphrase; never the one the store was opened with (so never the last). */
export async function removeKey(store: ObjectStore, id: string, signal?: AbortSignal): Promise<void> {
  const s = encrypted(store);
  if (id === s.keyId) {
    throw new BlockstoreError('CONVOY_KEY_IN_USE', `key ${id} is the one this passphrase opened the store with`, {
      hint: 'open the store with another of its passphrases to remove this key, or use `convoy-backup key change`',
      details: { id },
    });
  }
  if (!/^[0-9a-f]{16}$/.test(id) || (await s.inner.stat(keyFileKey(id), { signal })) === undefined) {
    throw new BlockstoreError('CONVOY_KEY_NOT_FOUND', `the store ${s.location} has no key ${JSON.stringify(id)}`, {
      hint: 'see `convoy-backup key list STORE`',
      details: { id },
    });
  }
  await s.inner.delete([keyFileKey(id)], { signal });
}

/**
 * Replaces the passphrase the store was opened with: the new key file is written and read back,
 * then the old one removed. Killed in between, both passphrases work; never neither.
 */
export async function changeKey(
  store: ObjectStore,
  passphrase: string,
  now: Date,
  signal?: AbortSignal,
): Promise<{ added: KeyInfo; removed: string }> {
  const s = encrypted(store);
  const added = await addKey(s, passphrase, now, signal);
  await s.inner.delete([keyFileKey(s.keyId)], { signal });
  return { added: { ...added, current: true }, removed: s.keyId };
}
