import fs from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HoleMap, nextData } from './holes.js';
import { MiB, tempDir } from './test-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('convoy-holes-');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function sparse(name: string, size: number, writes: readonly { at: number; length: number }[]): Promise<string> {
  const file = path.join(dir, name);
  const fh = await fs.open(file, 'w');
  await fh.truncate(size);
  for (const w of writes) await fh.write(Buffer.alloc(w.length, 0xa5), 0, w.length, w.at);
  await fh.close();
  return file;
}

async function withFd<T>(file: string, f: (fd: number) => T): Promise<T> {
  const fh = await fs.open(file, 'r');
  try {
    return f(fh.fd);
  } finally {
    await fh.close();
  }
}

describe('holes of a sparse file', () => {
  it('finds the data after a hole, and none past the last data', async () => {
    const file = await sparse('a.img', 16 * MiB, [{ at: 6 * MiB + 100, length: 10 }]);
    await withFd(file, (fd) => {
      const at = nextData(fd, 0);
      // the file system allocates whole blocks: the data starts at the block holding byte 6 MiB + 100
      expect(at).toBeGreaterThanOrEqual(6 * MiB);
      expect(at).toBeLessThanOrEqual(6 * MiB + 100);
      expect(nextData(fd, 7 * MiB)).toBe(Infinity);
    });
  });

  it('answers per 2 MiB block: holes, data, a block with data only in its last bytes', async () => {
    const file = await sparse('b.img', 16 * MiB, [
      { at: 2 * MiB, length: 4096 },
      { at: 8 * MiB - 1, length: 1 },
      { at: 16 * MiB - 4096, length: 4096 },
    ]);
    const answers = await withFd(file, (fd) => {
      const m = new HoleMap(fd);
      return Array.from({ length: 8 }, (_, i) => m.isHole(i * 2 * MiB, 2 * MiB));
    });
    expect(answers).toEqual([true, false, true, false, true, true, true, false]);
  });

  it('a file without holes is all data', async () => {
    const file = path.join(dir, 'full.img');
    await fs.writeFile(file, Buffer.alloc(4 * MiB, 1));
    expect(await withFd(file, (fd) => [new HoleMap(fd).isHole(0, 2 * MiB), new HoleMap(fd).isHole(2 * MiB, 2 * MiB)])).toEqual([
      false,
      false,
    ]);
  });

  it('never calls a range with data a hole (random writes, random ranges, any order)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 8 * MiB - 1 }), length: fc.integer({ min: 1, max: 70_000 }) }), {
          maxLength: 6,
        }),
        fc.array(fc.record({ offset: fc.integer({ min: 0, max: 8 * MiB - 1 }), length: fc.integer({ min: 1, max: 3 * MiB }) }), {
          minLength: 1,
          maxLength: 20,
        }),
        async (writes, ranges) => {
          const size = 8 * MiB;
          const clipped = writes.map((w) => ({ at: w.at, length: Math.min(w.length, size - w.at) }));
          const file = await sparse(`p${n++}.img`, size, clipped);
          const content = await fs.readFile(file);
          await withFd(file, (fd) => {
            const m = new HoleMap(fd);
            for (const r of ranges) {
              const length = Math.min(r.length, size - r.offset);
              if (m.isHole(r.offset, length)) expect(content.subarray(r.offset, r.offset + length).every((b) => b === 0)).toBe(true);
              // a range overlapping a write always has data
              const overlaps = clipped.some((w) => w.at < r.offset + length && r.offset < w.at + w.length);
              if (overlaps) expect(m.isHole(r.offset, length)).toBe(false);
            }
          });
          await fs.rm(file);
        },
      ),
      { numRuns: 40 },
    );
  });
});
