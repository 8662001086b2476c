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

/** Linux's NAME_MAX and PATH_MAX (with room for the store's own keys below the path). */
const MAX_NAME_BYTES = 255;
const MAX_PATH_BYTES = 3000;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * A URL as error messages quote it: anything before an "@" in the authority (credentials someone
 * wrote into it) is replaced by ***, even where the URL is too broken for URL to parse, and it is
 * cut short.
 */
function shown(url: string): string {
  const clean = url.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/?#]*@/, '$1***@');
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}

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
    throw new InvalidStoreUrlError(`"${shown(url)}" is a path, not a store URL`, `write it as vfs://${shown(url)}`);
  }
  throw new InvalidStoreUrlError(
    `unsupported store URL scheme ${scheme === undefined ? '(none)' : `"${scheme}:"`}`,
    'use vfs:///absolute/path (a directory, local or NFS) or s3://bucket@region/prefix',
  );
}

function parseVfs(url: string): ParsedStoreUrl {
  const m = /^vfs:\/\/([^/?#]*)([^?#]*)(\?[^#]*)?$/i.exec(url);
  if (m === null) throw new InvalidStoreUrlError(`cannot parse ${shown(url)}`);
  const [, host = '', rawPath = '', query = ''] = m;
  if (host !== '') {
    throw new InvalidStoreUrlError(
      `vfs URL must name an absolute path: ${shown(url)}`,
      `use three slashes, e.g. vfs:///${host.replace(/^.*@/, '')}${rawPath}`,
    );
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    throw new InvalidStoreUrlError(`bad percent-encoding in ${shown(url)}`);
  }
  if (!decoded.startsWith('/')) throw new InvalidStoreUrlError(`vfs URL must name an absolute path: ${shown(url)}`);
  if (decoded.includes('\0')) throw new InvalidStoreUrlError('vfs path contains a NUL character');
  // Between backslashes too: `backups\..\..` is one (odd) name on Linux, but whoever wrote it meant to climb out.
  if (decoded.split(/[/\\]/).some((s) => s === '..' || s === '.')) {
    throw new InvalidStoreUrlError(`vfs path must not contain "." or ".." segments (between "/" or "\\"): ${decoded}`);
  }
  // Longer than a file name or a path can be: the filesystem would refuse it (ENAMETOOLONG) later.
  if (decoded.split('/').some((s) => Buffer.byteLength(s) > MAX_NAME_BYTES) || Buffer.byteLength(decoded) > MAX_PATH_BYTES) {
    throw new InvalidStoreUrlError(
      `vfs path too long: ${decoded.slice(0, 120)}…`,
      `a path is at most ${MAX_PATH_BYTES} bytes and each of its names at most ${MAX_NAME_BYTES}`,
    );
  }
  const normal = path.posix.normalize(decoded);
  const trimmed = normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
  if (trimmed === '/')
    throw new InvalidStoreUrlError('refusing to use / itself as a store', 'name a directory, e.g. vfs:///var/lib/convoy-backups');
  return { location: { kind: 'vfs', path: trimmed }, params: queryParams(query) };
}

/**
 * The query's parameters. Rancher Convoy printed its backup URLs through Go's JSON encoder, which
 * writes `&` as the six characters `\u0026` (`…?backup=backup-1a2b\u0026volume=vol1`); users
 * paste them as printed, so that spelling separates parameters as `&` does.
 */
function queryParams(query: string): URLSearchParams {
  return new URLSearchParams(query.replace(/\\u0026/gi, '&'));
}

function parseS3(url: string): ParsedStoreUrl {
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(url);
  if (m === null) throw new InvalidStoreUrlError(`cannot parse ${shown(url)}`);
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
    throw new InvalidStoreUrlError(`bad percent-encoding in ${shown(url)}`);
  }
  if (prefix !== '') {
    try {
      validateKey(prefix);
    } catch (err) {
      throw new InvalidStoreUrlError(`invalid S3 prefix "${prefix}": ${(err as Error).message}`);
    }
  }
  return { location: { kind: 's3', bucket, region, prefix }, params: queryParams(query) };
}

/** The canonical URL of a location (what `backup create` prints, with query parameters added by callers). */
export function formatStoreUrl(location: StoreLocation): string {
  if (location.kind === 'vfs') return `vfs://${location.path.split('/').map(encodeURIComponent).join('/')}`;
  const auth = location.region === undefined ? location.bucket : `${location.bucket}@${location.region}`;
  return `s3://${auth}${location.prefix === '' ? '' : `/${location.prefix}`}`;
}

/**
 * What is wrong with an S3 endpoint URL (`--s3-endpoint`, AWS_ENDPOINT_URL), said without quoting
 * anything that could be a key pasted into it; undefined when it is an http(s) URL without
 * credentials. Keys belong in the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
 */
export function s3EndpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'not a URL';
  }
  if (url.username !== '' || url.password !== '') return `${url.protocol}//***@${url.host}: credentials in the URL`;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${JSON.stringify(url.protocol)} is not http: or https:`;
  return undefined;
}
