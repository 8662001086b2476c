import { FsObjectStore } from './drivers/fs-store.js';
import type { S3StoreOptions } from './drivers/s3-store.js';
import type { ObjectStore } from './types.js';
import { parseStoreUrl } from './url.js';

export interface OpenStoreOptions {
  /** Options for s3:// URLs (endpoint, credentials, concurrency, retry, …). */
  s3?: S3StoreOptions;
}

/**
 * Opens the store a URL names: `vfs:///abs/path` (created if missing) or `s3://bucket@region/prefix`.
 * Query parameters (backup=, volume=) are ignored here. Bad URLs throw InvalidStoreUrlError.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<ObjectStore> {
  const { location } = parseStoreUrl(url);
  if (location.kind === 'vfs') return new FsObjectStore(location.path).open();
  const { S3ObjectStore } = await import('./drivers/s3-store.js');
  return new S3ObjectStore(location, options.s3).open();
}
