// Extended attributes through libc (llistxattr / lgetxattr / lsetxattr) via koffi: Node has no
// xattr API, and a getfattr process per file would cost more than the file. Calls are synchronous
// system calls of a few microseconds; they never follow symlinks.
import { ConvoyError } from '@convoy/errors';
import * as koffi from 'koffi';

interface Libc {
  llistxattr: (path: string, list: Buffer | null, size: number) => number;
  lgetxattr: (path: string, name: string, value: Buffer | null, size: number) => number;
  lsetxattr: (path: string, name: string, value: Buffer, size: number, flags: number) => number;
}

const ERANGE = 34;
const ENODATA = 61;
const ENOTSUP = 95;

let libc: Libc | undefined;
function bind(): Libc {
  if (libc === undefined) {
    const lib = koffi.load('libc.so.6');
    libc = {
      llistxattr: lib.func('long llistxattr(const char *path, _Out_ uint8_t *list, size_t size)') as unknown as Libc['llistxattr'],
      lgetxattr: lib.func(
        'long lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)',
      ) as unknown as Libc['lgetxattr'],
      lsetxattr: lib.func(
        'int lsetxattr(const char *path, const char *name, const uint8_t *value, size_t size, int flags)',
      ) as unknown as Libc['lsetxattr'],
    };
  }
  return libc;
}

function failed(op: string, path: string, errno: number): ConvoyError {
  const reading = !op.startsWith('lset');
  return new ConvoyError(reading ? 'CONVOY_SOURCE_UNREADABLE' : 'CONVOY_TARGET_WRITE_FAILED', `${op} of ${path} failed (errno ${errno})`, {
    hint: reading
      ? 'check the permissions of the file; run without xattrs to skip them'
      : 'the target filesystem may not support this attribute (user.* needs ext4, XFS, btrfs or tmpfs ≥ 6.6)',
    details: { path, errno },
  });
}

/** Calls fn with a buffer, growing it while the kernel answers ERANGE; null: no data. */
function sized(path: string, op: string, fn: (buf: Buffer | null, size: number) => number): Buffer | null {
  for (;;) {
    const need = fn(null, 0);
    if (need < 0) {
      const errno = koffi.errno();
      if (errno === ENOTSUP || errno === ENODATA) return null;
      throw failed(op, path, errno);
    }
    if (need === 0) return Buffer.alloc(0);
    const buf = Buffer.alloc(need);
    const got = fn(buf, need);
    if (got >= 0) return buf.subarray(0, got);
    const errno = koffi.errno();
    if (errno === ENODATA) return null;
    if (errno !== ERANGE) throw failed(op, path, errno);
  }
}

/** The extended attributes of `path` (not following a symlink); {} where the fs has none. */
export function readXattrs(path: string): Record<string, Buffer> {
  const c = bind();
  const list = sized(path, 'llistxattr', (b, n) => c.llistxattr(path, b, n));
  const out: Record<string, Buffer> = {};
  if (list === null || list.length === 0) return out;
  for (const name of list.toString('utf8').split('\0')) {
    if (name === '') continue;
    const value = sized(path, `lgetxattr ${name}`, (b, n) => c.lgetxattr(path, name, b, n));
    if (value !== null) out[name] = Buffer.from(value);
  }
  return out;
}

/** Sets one extended attribute of `path` (not following a symlink). */
export function writeXattr(path: string, name: string, value: Buffer): void {
  if (bind().lsetxattr(path, name, value, value.length, 0) !== 0) throw failed(`lsetxattr ${name}`, path, koffi.errno());
}
