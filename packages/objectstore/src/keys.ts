import { InvalidKeyError } from './errors.js';

/** Longest key accepted (S3 allows 1024 bytes; keys here are ASCII). */
export const MAX_KEY_LENGTH = 1024;
/** Longest `/`-separated segment (a file name on most filesystems). */
export const MAX_SEGMENT_LENGTH = 255;

// `!` is there for Rancher Convoy's stores, which pad short volume names with it (`ab!!`).
const SEGMENT = /^[A-Za-z0-9._!-]+$/;

/**
 * Throws InvalidKeyError unless `key` is a safe relative key: segments of [A-Za-z0-9._!-],
 * separated by single `/`, no `.`/`..` segment, no leading or trailing `/`, no NUL, bounded length.
 * The charset keeps keys identical on every driver, and no key can escape a filesystem root.
 */
export function validateKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(String(key), 'empty');
  if (key.length > MAX_KEY_LENGTH) throw new InvalidKeyError(key, `longer than ${MAX_KEY_LENGTH} characters`);
  if (key.startsWith('/')) throw new InvalidKeyError(key, 'absolute (starts with "/")');
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidKeyError(key, 'empty segment ("//" or a trailing "/")');
    if (segment === '.' || segment === '..') throw new InvalidKeyError(key, `"${segment}" segment`);
    if (segment.length > MAX_SEGMENT_LENGTH) throw new InvalidKeyError(key, `segment longer than ${MAX_SEGMENT_LENGTH}`);
    if (!SEGMENT.test(segment)) throw new InvalidKeyError(key, 'characters outside [A-Za-z0-9._!-]');
  }
}

/** A list prefix may be empty or end in `/`; otherwise the same charset as keys. */
export function validatePrefix(prefix: string): void {
  if (prefix === '') return;
  validateKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

export function isValidKey(key: string): boolean {
  try {
    validateKey(key);
    return true;
  } catch {
    return false;
  }
}
