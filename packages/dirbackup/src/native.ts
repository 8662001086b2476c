// System calls Node lacks, through libc via koffi: utimensat (nanosecond times, also of a symlink
// itself) and mknod (fifos and device nodes). Synchronous calls of a few microseconds.
import { ConvoyError } from '@convoy/errors';
import * as koffi from 'koffi';

interface Libc {
  utimensat: (dirfd: number, path: string, times: bigint[], flags: number) => number;
  mknod: (path: string, mode: number, dev: bigint) => number;
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const UTIME_OMIT = (1n << 30n) - 2n;

let libc: Libc | undefined;
function bind(): Libc {
  if (libc === undefined) {
    const lib = koffi.load('libc.so.6');
    libc = {
      // struct timespec[2] = four 64-bit words: atime sec, nsec, mtime sec, nsec
      utimensat: lib.func('int utimensat(int dirfd, const char *path, const int64_t *times, int flags)') as unknown as Libc['utimensat'],
      mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)') as unknown as Libc['mknod'],
    };
  }
  return libc;
}

function failed(op: string, path: string, errno: number): ConvoyError {
  return new ConvoyError('CONVOY_TARGET_WRITE_FAILED', `${op} of ${path} failed (errno ${errno})`, {
    hint: 'check the permissions and the free space of the restore target',
    details: { path, errno },
  });
}

/** Sets the modification time (ns since the epoch) of `path` itself, never of a symlink's target; atime is left alone. */
export function setMtimeNs(path: string, mtimeNs: bigint): void {
  const sec = mtimeNs / 1_000_000_000n;
  let nsec = mtimeNs % 1_000_000_000n;
  const s = nsec < 0n ? sec - 1n : sec;
  if (nsec < 0n) nsec += 1_000_000_000n;
  if (bind().utimensat(AT_FDCWD, path, [0n, UTIME_OMIT, s, nsec], AT_SYMLINK_NOFOLLOW) !== 0)
    throw failed('utimensat', path, koffi.errno());
}

/** Creates a fifo or a device node (`type` is S_IFIFO, S_IFCHR or S_IFBLK) with permission bits `perm`. */
export function makeNode(path: string, type: number, perm: number, rdev: number): void {
  if (bind().mknod(path, type | perm, BigInt(rdev)) !== 0) throw failed('mknod', path, koffi.errno());
}
