import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';

export const MiB = 1024 * 1024;

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MiB })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Writes a volume image of `size` bytes in 2 MiB regions: random, compressible text, and holes
 * (never written: the file stays sparse), in turn. Streaming: memory stays small for 1 GiB.
 */
export async function writeMixedImage(file: string, size: number): Promise<void> {
  const fh = await fs.open(file, 'w');
  try {
    await fh.truncate(size);
    for (let o = 0, r = 0; o < size; o += 2 * MiB, r++) {
      const n = Math.min(2 * MiB, size - o);
      if (r % 3 === 0) await fh.write(randomBytes(n), 0, n, o);
      else if (r % 3 === 1) {
        const line = Buffer.from(`${new Date(0).toISOString()} INFO region ${r} request handled ok\n`);
        const buf = Buffer.alloc(n);
        for (let i = 0; i < n; i += line.length) line.copy(buf, i);
        await fh.write(buf, 0, n, o);
      }
    }
  } finally {
    await fh.close();
  }
}

/** Overwrites the given ranges with random bytes; returns them as extents. */
export async function scribble(file: string, ranges: [number, number][]): Promise<{ offset: number; length: number }[]> {
  const fh = await fs.open(file, 'r+');
  try {
    for (const [o, l] of ranges) await fh.write(randomBytes(l), 0, l, o);
  } finally {
    await fh.close();
  }
  return ranges.map(([offset, length]) => ({ offset, length }));
}
