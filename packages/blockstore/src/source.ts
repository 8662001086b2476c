import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { BlockstoreError } from './errors.js';
import { HoleMap } from './holes.js';

/** A byte range of a volume. */
export interface Extent {
  offset: number;
  length: number;
}

/**
 * What a backup reads: a point-in-time image of a volume (a thin snapshot device, a file, a block
 * device). The driver that made the snapshot may also know which extents changed since its parent.
 */
export interface SnapshotSource {
  readonly size: number;
  /**
   * Exactly `length` bytes at `offset` (offset + length <= size). A source may read into `into`
   * (a buffer of at least `length` bytes the caller reuses) and return a view of it.
   */
  read(offset: number, length: number, signal?: AbortSignal, into?: Buffer): Promise<Buffer>;
  /**
   * True when the range is known to read as zeros without reading it (a hole of a sparse file), so
   * a backup skips it; false when unknown. Optional: a source without it is read everywhere.
   */
  isHole?(offset: number, length: number): boolean;
  close(): Promise<void>;
}

/** A regular file or a block device as a SnapshotSource. */
export class FileSource implements SnapshotSource {
  readonly size: number;
  readonly path: string;
  readonly #fh: fs.FileHandle;
  readonly #holes: HoleMap | undefined;

  private constructor(path: string, fh: fs.FileHandle, size: number, skipHoles: boolean) {
    this.path = path;
    this.#fh = fh;
    this.size = size;
    this.#holes = skipHoles ? new HoleMap(fh.fd) : undefined;
  }

  /** From lseek(SEEK_DATA), unless opened with `skipHoles: false` (then every block is read). */
  isHole(offset: number, length: number): boolean {
    return this.#holes?.isHole(offset, length) ?? false;
  }

  /**
   * `skipHoles` (default true): answer isHole from the file system. False reads the holes too, for
   * a file system whose SEEK_DATA cannot be trusted (OpenZFS 2.2.0–2.2.1 missed unsynced data).
   */
  static async open(path: string, options: { skipHoles?: boolean } = {}): Promise<FileSource> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(path, constants.O_RDONLY);
    } catch (err) {
      throw new BlockstoreError(
        'CONVOY_SOURCE_UNREADABLE',
        `cannot open ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        {
          hint: 'name a file or block device that exists and is readable',
          cause: err,
        },
      );
    }
    const st = await fh.stat();
    let size = st.size;
    if (st.isBlockDevice()) size = await blockDeviceSize(st.rdev);
    else if (!st.isFile()) {
      await fh.close();
      throw new BlockstoreError('CONVOY_SOURCE_UNREADABLE', `${path} is neither a file nor a block device`, {
        hint: 'directories are backed up in directory mode (not yet available in this tool)',
      });
    }
    return new FileSource(path, fh, size, options.skipHoles ?? true);
  }

  async read(offset: number, length: number, _signal?: AbortSignal, into?: Buffer): Promise<Buffer> {
    const buf = into !== undefined && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.#fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0)
        throw new BlockstoreError('CONVOY_SOURCE_CHANGED', `${this.path} ended at ${offset + done}, expected ${this.size} bytes`, {
          hint: 'back up a snapshot, not a file that is being written',
        });
      done += bytesRead;
    }
    return buf;
  }

  close(): Promise<void> {
    return this.#fh.close();
  }
}

/** What `openFileSize` needs of an open file (a `FileHandle` has it). */
export interface StatHandle {
  stat(): Promise<{ size: number; rdev: number; isBlockDevice(): boolean }>;
}

/** Reads a sysfs file as text (injected by tests: block device sizes come from /sys). */
export type SysfsReader = (file: string) => Promise<string>;

const readSysfs: SysfsReader = (file) => fs.readFile(file, 'utf8');

/**
 * The size in bytes of an open regular file or block device. `fstat` says 0 for a block device, so
 * its size is read from /sys/dev/block/MAJ:MIN/size (512-byte sectors). Anything else: `st.size`.
 */
export async function openFileSize(fh: StatHandle, read: SysfsReader = readSysfs): Promise<number> {
  const st = await fh.stat();
  return st.isBlockDevice() ? blockDeviceSize(st.rdev, read) : st.size;
}

async function blockDeviceSize(rdev: number, read: SysfsReader = readSysfs): Promise<number> {
  const major = Math.floor(rdev / 256) & 0xfff; // glibc's gnu_dev_major for small numbers
  const minor = (rdev & 0xff) | ((Math.floor(rdev / 4096) & 0xfff00) >>> 0);
  const file = `/sys/dev/block/${major}:${minor}/size`;
  let text: string;
  try {
    text = (await read(file)).trim();
  } catch (err) {
    throw deviceSizeUnknown(major, minor, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  const bytes = Number(text) * 512;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(bytes))
    throw deviceSizeUnknown(major, minor, `${file} holds ${JSON.stringify(text)}, not a sector count`);
  return bytes;
}

const deviceSizeUnknown = (major: number, minor: number, why: string, cause?: unknown): BlockstoreError =>
  new BlockstoreError('CONVOY_DEVICE_SIZE_UNKNOWN', `cannot tell the size of block device ${major}:${minor}: ${why}`, {
    hint: 'sysfs must be mounted at /sys (in a container too)',
    cause,
  });

/** Parses a changed-extent list: JSON `[[offset, length], …]` or lines of `offset length`. */
export function parseExtents(text: string): Extent[] {
  const t = text.trim();
  const out: Extent[] = [];
  const push = (o: unknown, l: unknown, where: string): void => {
    const offset = Number(o);
    const length = Number(l);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new BlockstoreError('CONVOY_INVALID_ARGUMENT', `bad extent at ${where}: ${String(o)} ${String(l)}`, {
        hint: 'a changed-extent list is JSON [[offset, length], …] or lines "offset length" (bytes)',
      });
    }
    if (length > 0) out.push({ offset, length });
  };
  if (t.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      throw new BlockstoreError('CONVOY_INVALID_ARGUMENT', 'the changed-extent list is not valid JSON', {
        hint: 'a changed-extent list is JSON [[offset, length], …] or lines "offset length" (bytes)',
      });
    }
    if (!Array.isArray(v)) throw new BlockstoreError('CONVOY_INVALID_ARGUMENT', 'changed-extent JSON must be an array');
    v.forEach((e: unknown, i) => (Array.isArray(e) ? push(e[0], e[1], `entry ${i}`) : push(undefined, undefined, `entry ${i}`)));
  } else {
    t.split('\n').forEach((line, i) => {
      const s = line.trim();
      if (s === '' || s.startsWith('#')) return;
      const [o, l] = s.split(/[\s,]+/);
      push(o, l, `line ${i + 1}`);
    });
  }
  return out;
}
