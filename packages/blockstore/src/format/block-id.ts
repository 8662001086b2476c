import { createHash, createHmac, webcrypto } from 'node:crypto';
import { formatUnsupported } from '../errors.js';

/** How a block's id is derived from its uncompressed bytes: a property of the store header. */
export interface BlockIdFunction {
  readonly algorithm: string;
  /** 32 raw bytes. */
  digest(data: Uint8Array): Buffer;
  /**
   * The same, computed off the main thread (in libuv's pool, as WebCrypto's digest runs), so a
   * backup or restore hashes one block while the event loop reads, compresses and writes others.
   */
  digestAsync(data: Uint8Array): Promise<Buffer>;
}

export const SHA256: BlockIdFunction = {
  algorithm: 'sha256',
  digest: (data) => createHash('sha256').update(data).digest(),
  digestAsync: async (data) => Buffer.from(await webcrypto.subtle.digest('SHA-256', data)),
};

/** The HMAC key of each id function made here (none for SHA256), for hashing threads (hash-workers.ts). */
const THREAD_KEYS = new WeakMap<BlockIdFunction, { key?: Buffer }>([[SHA256, {}]]);

/** How a hashing thread computes `ids` (its HMAC key, if any), or undefined for a function not made here. */
export const threadSpec = (ids: BlockIdFunction): { key?: Buffer } | undefined => THREAD_KEYS.get(ids);

export interface BlockIdSpec {
  algorithm: string;
}

/**
 * HMAC-SHA256 under a key (an encrypted store's id key), so a block's id tells nothing about its
 * content to anyone without the key.
 */
export function hmacIds(key: Buffer): BlockIdFunction {
  const imported = webcrypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  imported.catch(() => undefined); // reported by the first digestAsync
  const ids: BlockIdFunction = {
    algorithm: 'hmac-sha256',
    digest: (data) => createHmac('sha256', key).update(data).digest(),
    digestAsync: async (data) => Buffer.from(await webcrypto.subtle.sign('HMAC', await imported, data)),
  };
  THREAD_KEYS.set(ids, { key });
  return ids;
}

/** The block-id function a store header names; unknown algorithms are refused. */
export function blockIdFunction(spec: BlockIdSpec): BlockIdFunction {
  if (spec.algorithm === 'sha256') return SHA256;
  throw formatUnsupported('block id algorithm', spec.algorithm);
}
