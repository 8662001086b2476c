import fs from 'node:fs/promises';
import { ConvoyError } from '@convoy/errors';
import { FsObjectStore } from './drivers/fs-store.js';
import type { S3StoreOptions } from './drivers/s3-store.js';
import type { ObjectStore } from './types.js';
import { parseStoreUrl } from './url.js';

export interface OpenStoreOptions {
  /** Options for s3:// URLs (endpoint, credentials, concurrency, retry, …). */
  s3?: S3StoreOptions;
  /**
   * Whether a vfs directory that does not exist is created (default true: a backup creates its
   * store). False for work that must find the store there (list, inspect, delete, restore,
   * verify): CONVOY_STORE_NOT_FOUND instead. An s3 bucket is never created.
   */
  create?: boolean;
}

/**
 * Opens the store a URL names: `vfs:///abs/path` or `s3://bucket@region/prefix`. Query parameters
 * (backup=, volume=) are ignored here. Bad URLs throw InvalidStoreUrlError before anything is
 * touched.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<ObjectStore> {
  const { location } = parseStoreUrl(url);
  if (options.create === false) await assertStoreExists(url);
  if (location.kind === 'vfs') return new FsObjectStore(location.path).open();
  const { S3ObjectStore } = await import('./drivers/s3-store.js');
  return new S3ObjectStore(location, options.s3).open();
}

/**
 * A vfs store's directory must exist (CONVOY_STORE_NOT_FOUND otherwise, and nothing is created);
 * nothing to check for s3 here (opening a missing bucket fails by itself). For callers that open
 * stores their own way (an injected opener).
 */
export async function assertStoreExists(url: string): Promise<void> {
  const { location } = parseStoreUrl(url);
  if (location.kind !== 'vfs') return;
  const st = await fs.stat(location.path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw err;
  });
  if (st === undefined || !st.isDirectory()) {
    throw new ConvoyError(
      'CONVOY_STORE_NOT_FOUND',
      `no backup store at vfs://${location.path}: ${st === undefined ? 'the directory does not exist' : 'not a directory'}`,
      {
        hint: 'check the URL; a store is created by its first backup',
        details: { path: location.path },
      },
    );
  }
}
