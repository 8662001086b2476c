import { FileSource, type SnapshotSource } from '@convoy/blockstore';

/**
 * A snapshot activated as a read-only thin device and read as a block device. `close()` closes
 * the device and deactivates it (once, however often it is called).
 */
export class ThinSnapshotSource implements SnapshotSource {
  readonly size: number;
  readonly device: string;
  readonly #file: FileSource;
  readonly #release: () => Promise<void>;
  #closed: Promise<void> | undefined;
  /** Blocks and bytes read through this source (what an incremental backup cost). */
  reads = 0;
  bytesRead = 0;

  constructor(file: FileSource, size: number, release: () => Promise<void>) {
    this.#file = file;
    this.size = size;
    this.device = file.path;
    this.#release = release;
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
