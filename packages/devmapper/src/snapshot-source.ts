import type { Extent, FileSource, SnapshotSource } from '@convoy/blockstore';

/**
 * A snapshot activated as a read-only thin device and read as a block device. `close()` closes
 * the device and deactivates it (once, however often it is called). With the extents the device
 * maps (Pool.mappedExtents), the rest are holes a backup skips unread: a 100 GiB volume holding
 * 1 GiB is read as 1 GiB.
 */
export class ThinSnapshotSource implements SnapshotSource {
  readonly size: number;
  readonly device: string;
  readonly #file: FileSource;
  readonly #release: () => Promise<void>;
  readonly #mapped: readonly Extent[] | undefined;
  #closed: Promise<void> | undefined;
  /** Blocks and bytes read through this source (what an incremental backup cost). */
  reads = 0;
  bytesRead = 0;

  constructor(file: FileSource, size: number, release: () => Promise<void>, mapped?: readonly Extent[]) {
    this.#file = file;
    this.size = size;
    this.device = file.path;
    this.#release = release;
    this.#mapped = mapped;
  }

  /** True when no mapped extent meets [offset, offset + length); false when the mapping is unknown. */
  isHole(offset: number, length: number): boolean {
    const m = this.#mapped;
    if (m === undefined) return false;
    // the first extent that ends after offset (m is sorted and disjoint)
    let lo = 0;
    let hi = m.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = m[mid] as Extent;
      if (e.offset + e.length <= offset) lo = mid + 1;
      else hi = mid;
    }
    const next = m[lo];
    return next === undefined || next.offset >= offset + length;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const buf = await this.#file.read(offset, length);
    this.reads++;
    this.bytesRead += length;
    return buf;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        await this.#file.close();
      } finally {
        await this.#release();
      }
    })();
    return this.#closed;
  }
}
