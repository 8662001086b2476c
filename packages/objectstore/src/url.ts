import path from 'node:path';
import { InvalidStoreUrlError } from './errors.js';
import { validateKey } from './keys.js';

export interface VfsLocation {
  kind: 'vfs';
  /** Absolute, normalised directory path. */
  path: string;
}

export interface S3Location {
  kind: 's3';
  bucket: string;
  /** undefined when the URL names none: the SDK's chain (AWS_REGION, config) decides. */
  region: string | undefined;
  /** Key prefix inside the bucket, '' or without leading/trailing '/'. */
  prefix: string;
}

export type StoreLocation = VfsLocation | S3Location;

export interface ParsedStoreUrl {
  location: StoreLocation;
  /** Query parameters (e.g. backup=, volume=) for the layers above; the store itself ignores them. */
  params: URLSearchParams;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Parses `vfs:///abs/path[?…]` and `s3://bucket[@region][/prefix][?…]`, as Rancher Convoy printed
 * them. Rejects relative or traversing paths, credentials in the URL and unknown schemes with a hint.
 */
export function parseStoreUrl(url: string): ParsedStoreUrl {
  if (typeof url !== 'string' || url.trim() === '') throw new InvalidStoreUrlError('empty store URL');
  if (url.includes('\0')) throw new InvalidStoreUrlError('store URL contains a NUL character');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'vfs') return parseVfs(url);
  if (scheme === 's3') return parseS3(url);
  if (scheme === undefined && url.startsWith('/')) {
    throw new InvalidStoreUrlError(`"${url}" is a path, not a store URL`, `write it as vfs://${url}`);
  }
  throw new InvalidStoreUrlError(
    `unsupported store URL scheme ${scheme === undefined ? '(none)' : `"${scheme}:"`}`,
    'use vfs:///absolute/path (a directory, local or NFS) or s3://bucket@region/prefix',
  );
}

function parseVfs(url: string): ParsedStoreUrl {
  const m = /^vfs:\/\/([^/?#]*)([^?#]*)(\?[^#]*)?$/i.exec(url);
  if (m === null) throw new InvalidStoreUrlError(`cannot parse ${url}`);
  const [, host = '', rawPath = '', query = ''] = m;
  if (host !== '') {
    throw new InvalidStoreUrlError(
      `vfs URL must name an absolute path: ${url}`,
      `use three slashes, e.g. vfs:///${host}${rawPath}`,
    );
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    throw new InvalidStoreUrlError(`bad percent-encoding in ${url}`);
  }
  if (!decoded.startsWith('/')) throw new InvalidStoreUrlError(`vfs URL must name an absolute path: ${url}`);
  if (decoded.includes('\0')) throw new InvalidStoreUrlError('vfs path contains a NUL character');
  if (decoded.split('/').some((s) => s === '..' || s === '.')) {
    throw new InvalidStoreUrlError(`vfs path must not contain "." or ".." segments: ${decoded}`);
  }
  const normal = path.posix.normalize(decoded);
  const trimmed = normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
  if (trimmed === '/') throw new InvalidStoreUrlError('refusing to use / itself as a store', 'name a directory, e.g. vfs:///var/lib/convoy-backups');
  return { location: { kind: 'vfs', path: trimmed }, params: new URLSearchParams(query) };
}

function parseS3(url: string): ParsedStoreUrl {
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(url);
  if (m === null) throw new InvalidStoreUrlError(`cannot parse ${url}`);
  const [, authority = '', rawPrefix = '', query = ''] = m;
  const parts = authority.split('@');
  if (parts.length > 2 || (parts[0] ?? '').includes(':')) {
    throw new InvalidStoreUrlError(
      'credentials do not belong in an s3 URL',
      'set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or a profile) and use s3://bucket@region/prefix',
    );
  }
  const bucket = parts[0] ?? '';
  const region = parts[1] === '' ? undefined : parts[1];
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new InvalidStoreUrlError(`invalid S3 bucket name "${bucket}"`, 'bucket names are 3-63 characters of a-z, 0-9, "." and "-"');
  }
  if (region !== undefined && !REGION.test(region)) {
    throw new InvalidStoreUrlError(`invalid S3 region "${region}"`, 'e.g. s3://bucket@us-east-1/prefix');
  }
  let prefix = rawPrefix.replace(/^\/+/, '').replace(/\/+$/, '');
  try {
    prefix = decodeURIComponent(prefix);
  } catch {
    throw new InvalidStoreUrlError(`bad percent-encoding in ${url}`);
  }
  if (prefix !== '') {
    try {
      validateKey(prefix);
    } catch (err) {
      throw new InvalidStoreUrlError(`invalid S3 prefix "${prefix}": ${(err as Error).message}`);
    }
  }
  return { location: { kind: 's3', bucket, region, prefix }, params: new URLSearchParams(query) };
}

/** The canonical URL of a location (what `backup create` prints, with query parameters added by callers). */
export function formatStoreUrl(location: StoreLocation): string {
  if (location.kind === 'vfs') return `vfs://${location.path.split('/').map(encodeURIComponent).join('/')}`;
  const auth = location.region === undefined ? location.bucket : `${location.bucket}@${location.region}`;
  return `s3://${auth}${location.prefix === '' ? '' : `/${location.prefix}`}`;
}
