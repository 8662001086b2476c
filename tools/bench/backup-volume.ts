// The test volume of the backup benchmark: a file of mixed content (random, log-like text, zeros
// in 2 MiB regions) and a scattered change of a fraction of it, both deterministic from a seed so
// that runs on different days and machines back up the same bytes.
import { createCipheriv, createHash, type Cipheriv } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import fs from 'node:fs/promises';

export const REGION_BYTES = 2 * 1024 * 1024;
export const CHANGE_BYTES = 64 * 1024;

export type RegionKind = 'random' | 'text' | 'zero';

export interface VolumeLayout {
  size: number;
  seed: string;
  /** Region i covers [i × 2 MiB, (i+1) × 2 MiB). */
  regions: RegionKind[];
}

/** A range of the volume; the same shape as @convoy/blockstore's Extent. */
export interface ChangedExtent {
  offset: number;
  length: number;
}

/**
 * A deterministic byte stream: the AES-256-CTR keystream under a key derived from the seed and a
 * purpose (a seeded CSPRNG at ~2 GB/s; independent streams for independent purposes).
 */
export class SeededBytes {
  readonly #cipher: Cipheriv;
  #zeros: Buffer = Buffer.alloc(0);

  constructor(seed: string, purpose: string) {
    const key = createHash('sha256').update(`convoy-bench/${seed}/${purpose}`).digest();
    this.#cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }

  next(length: number): Buffer {
    if (this.#zeros.length < length) this.#zeros = Buffer.alloc(length);
    return this.#cipher.update(this.#zeros.subarray(0, length));
  }

  /** A uniform integer in [0, n), n ≤ 2^32 (rejection sampling: no modulo bias). */
  below(n: number): number {
    const limit = Math.floor(0x1_0000_0000 / n) * n;
    for (;;) {
      const v = this.next(4).readUInt32LE(0);
      if (v < limit) return v % n;
    }
  }
}

/** Fisher–Yates with a seeded stream. */
function shuffle<T>(items: T[], rng: SeededBytes): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Region kinds: a third each (random, text, zero), in a seeded order. */
export function planVolume(size: number, seed: string): VolumeLayout {
  const count = Math.ceil(size / REGION_BYTES);
  const kinds: RegionKind[] = Array.from({ length: count }, (_, i) => (['random', 'text', 'zero'] as const)[i % 3] as RegionKind);
  return { size, seed, regions: shuffle(kinds, new SeededBytes(seed, 'layout')) };
}

const LEVELS = ['INFO ', 'INFO ', 'INFO ', 'DEBUG', 'WARN ', 'ERROR'];
const METHODS = ['GET', 'GET', 'GET', 'PUT', 'POST', 'DELETE'];
const PATHS = ['/v1/volumes', '/v1/snapshots', '/v1/backups', '/VolumeDriver.Mount', '/VolumeDriver.Get', '/healthz'];

/**
 * Log-like text: one line per request with a running counter and timestamp and a few seeded
 * fields, so it compresses (zstd -3 about 4×) but no two regions are alike (no free dedup).
 */
class LogText {
  #line = 0;
  #ms = Date.UTC(2026, 10, 24, 17, 0, 0);
  readonly #rng: SeededBytes;
  #pool: Buffer = Buffer.alloc(0);
  #at = 0;

  constructor(seed: string) {
    this.#rng = new SeededBytes(seed, 'text');
  }

  #u8(): number {
    if (this.#at >= this.#pool.length) {
      this.#pool = this.#rng.next(64 * 1024);
      this.#at = 0;
    }
    return this.#pool[this.#at++] as number;
  }

  fill(region: Buffer): void {
    let at = 0;
    const parts: string[] = [];
    let pending = 0;
    while (at < region.length) {
      // Build ~64 KiB of lines at a time, then copy (string concatenation per line is slow).
      while (pending < 64 * 1024) {
        this.#line++;
        this.#ms += this.#u8() % 40;
        const r = this.#u8();
        const line =
          `${new Date(this.#ms).toISOString()} ${LEVELS[r % 6]} [worker-${r % 8}] req=${this.#line} ` +
          `${METHODS[this.#u8() % 6]} ${PATHS[this.#u8() % 6]}/vol-${this.#u8() % 100} status=${r < 240 ? 200 : 500} ` +
          `bytes=${this.#u8() * 37} dur=${this.#u8() % 50}ms\n`;
        parts.push(line);
        pending += line.length;
      }
      const chunk = Buffer.from(parts.join(''), 'latin1');
      parts.length = 0;
      pending = 0;
      at += chunk.copy(region, at);
    }
  }
}

/**
 * Generates the layout's regions in order (the generators are streams: region i's bytes depend on
 * the regions before it) and hands each to `fn`; the buffer is reused, valid only during the call.
 */
export async function forEachRegion(layout: VolumeLayout, fn: (index: number, region: Buffer) => Promise<void>): Promise<void> {
  const random = new SeededBytes(layout.seed, 'random');
  const text = new LogText(layout.seed);
  const region = Buffer.alloc(REGION_BYTES);
  for (let i = 0; i < layout.regions.length; i++) {
    const length = Math.min(REGION_BYTES, layout.size - i * REGION_BYTES);
    const kind = layout.regions[i];
    if (kind === 'random') random.next(REGION_BYTES).copy(region);
    else if (kind === 'text') text.fill(region);
    else region.fill(0);
    await fn(i, region.subarray(0, length));
  }
}

/**
 * Where the regions go in the file: region i at i × `stride` (default 2 MiB: back to back), the
 * file `fileSize` long (default the layout's size). A stride above 2 MiB leaves holes between the
 * regions: a sparse volume with the same data.
 */
export interface Placement {
  stride: number;
  fileSize: number;
}

/** Writes the volume file (every byte of a region written: zero regions are real zeros, not holes). */
export async function writeVolume(file: string, layout: VolumeLayout, placement?: Placement): Promise<void> {
  const stride = placement?.stride ?? REGION_BYTES;
  const fh = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
  try {
    await forEachRegion(layout, (i, region) => writeFully(fh, region, i * stride));
    if (placement !== undefined) await fh.truncate(placement.fileSize);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Overwrites `fraction` of the volume with new random bytes, in 64 KiB ranges at distinct,
 * 64 KiB-aligned, seeded positions (as a thin pool with 64 KiB blocks would report them), and
 * answers the changed extents sorted by offset.
 */
export async function changeVolume(file: string, layout: VolumeLayout, fraction: number): Promise<ChangedExtent[]> {
  const slots = Math.floor(layout.size / CHANGE_BYTES);
  const count = Math.min(slots, Math.round((layout.size * fraction) / CHANGE_BYTES));
  const rng = new SeededBytes(layout.seed, 'change-positions');
  // Partial Fisher–Yates: the first `count` of a seeded permutation of all slots.
  const order = Array.from({ length: slots }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + rng.below(slots - i);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const extents = order
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((slot) => ({ offset: slot * CHANGE_BYTES, length: CHANGE_BYTES }));
  const bytes = new SeededBytes(layout.seed, 'change-bytes');
  const fh = await fs.open(file, constants.O_WRONLY);
  try {
    for (const e of extents) await writeFully(fh, bytes.next(e.length), e.offset);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return extents;
}

async function writeFully(fh: fs.FileHandle, buf: Buffer, offset: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, offset + done);
    done += bytesWritten;
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** How many of the volume's 2 MiB blocks the extents touch (what a 2 MiB-block backup must re-read). */
export function blocksTouched(extents: readonly ChangedExtent[], blockBytes: number): number {
  const touched = new Set<number>();
  for (const e of extents) {
    for (let b = Math.floor(e.offset / blockBytes); b <= Math.floor((e.offset + e.length - 1) / blockBytes); b++) touched.add(b);
  }
  return touched.size;
}
