// Paths inside a file index: relative, '/'-separated, no '.', '..' or empty components, no NUL.
// Their order is the order of a depth-first walk with siblings sorted by their UTF-8 bytes, so a
// directory's whole subtree directly follows it.
import { ConvoyError } from '@convoy/errors';

export const MAX_PATH_BYTES = 4096;
export const MAX_NAME_BYTES = 255;

/** Why `path` is not a safe index path, or undefined when it is. */
export function unsafePathReason(path: unknown): string | undefined {
  if (typeof path !== 'string') return 'it is not a string';
  if (path.length === 0) return 'it is empty';
  if (/\p{Surrogate}/u.test(path)) return 'it is not valid Unicode';
  if (path.includes('\0')) return 'it contains a NUL byte';
  if (path.startsWith('/')) return 'it is absolute';
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `it is longer than ${MAX_PATH_BYTES} bytes`;
  for (const name of path.split('/')) {
    if (name === '') return 'it has an empty component';
    if (name === '.' || name === '..') return `it has a '${name}' component`;
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `a component is longer than ${MAX_NAME_BYTES} bytes`;
  }
  return undefined;
}

/** Throws CONVOY_FILEINDEX_UNSAFE_PATH unless `path` is a safe index path. */
export function assertSafePath(path: unknown, where: string): asserts path is string {
  const reason = unsafePathReason(path);
  if (reason !== undefined) {
    throw new ConvoyError('CONVOY_FILEINDEX_UNSAFE_PATH', `${where}: path ${JSON.stringify(path)} is refused: ${reason}`, {
      hint: 'the file index was crafted or damaged; nothing was written for it. Restore from another backup, or report how the backup was made',
      details: { path, reason },
    });
  }
}

/** A UTF-16 code unit's rank in UTF-8 byte order, with '/' below everything (tree order). */
function rank(c: number): number {
  if (c === 0x2f) return -1;
  if (c >= 0xd800 && c <= 0xdfff) return c + 0x2000;
  if (c >= 0xe000) return c - 0x800;
  return c;
}

/** Tree order: component by component, each by UTF-8 bytes; a directory before its contents. */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** The parent of a path ('' for a top-level entry). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Whether `path` is `prefix` or inside it ('' contains everything). */
export function isWithin(path: string, prefix: string): boolean {
  return prefix === '' || path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 0x2f);
}
