// The tree the directory benchmark backs up: many small files of mixed content (text-like and
// random) in directories of 100, plus a few large random files; and the change between the full
// and the incremental backup (1 % of the small files rewritten, scattered, and an append to a
// large file). Deterministic for a seed.
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface TreeSpec {
  files: number;
  largeFiles: number;
  largeBytes: number;
  seed: number;
}

const WORDS =
  'convoy volume backup snapshot chunk index restore docker plugin thin pool device mapper vfs store object block manifest lease sweep marker'.split(
    ' ',
  );

/** xorshift32: deterministic pseudo-random numbers. */
export class Rng {
  #x: number;
  constructor(seed: number) {
    this.#x = (seed * 2654435761 + 1) | 0 || 1;
  }
  next(): number {
    let x = this.#x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#x = x;
    return (x >>> 0) / 2 ** 32;
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i + 4 <= n; i += 4) out.writeUInt32LE(Math.floor(this.next() * 2 ** 32), i);
    return out;
  }
}

/** A small file's content: log-uniform 200 B – 32 KiB; 70 % text-like, 30 % random. */
function smallContent(rng: Rng): Buffer {
  const size = Math.round(200 * Math.exp(rng.next() * Math.log(32768 / 200)));
  if (rng.next() < 0.3) return rng.bytes(size);
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const w = WORDS[Math.floor(rng.next() * WORDS.length)] as string;
    parts.push(w);
    n += w.length + 1;
  }
  return Buffer.from(parts.join(' ').slice(0, size));
}

export function smallPath(i: number): string {
  return path.join(`d${String(Math.floor(i / 100)).padStart(4, '0')}`, `f${String(i).padStart(6, '0')}.dat`);
}

export async function generateTree(root: string, spec: TreeSpec): Promise<number> {
  const rng = new Rng(spec.seed);
  let bytes = 0;
  for (let i = 0; i < spec.files; i++) {
    if (i % 100 === 0) await mkdir(path.join(root, path.dirname(smallPath(i))), { recursive: true });
    const data = smallContent(rng);
    bytes += data.length;
    await writeFile(path.join(root, smallPath(i)), data);
  }
  await mkdir(path.join(root, 'large'), { recursive: true });
  for (let i = 0; i < spec.largeFiles; i++) {
    const file = path.join(root, 'large', `big${i}.bin`);
    await writeFile(file, '');
    for (let done = 0; done < spec.largeBytes; done += 4 * 1024 * 1024) {
      const n = Math.min(4 * 1024 * 1024, spec.largeBytes - done);
      await appendFile(file, rng.bytes(n));
    }
    bytes += spec.largeBytes;
  }
  return bytes;
}

/** Rewrites every 100th small file (1 %, scattered) with new content, and appends 1 MiB to big0.bin. */
export async function changeTree(root: string, spec: TreeSpec): Promise<{ filesChanged: number; bytesChanged: number }> {
  const rng = new Rng(spec.seed + 1);
  let bytes = 0;
  let files = 0;
  for (let i = 37; i < spec.files; i += 100) {
    const data = smallContent(rng);
    await writeFile(path.join(root, smallPath(i)), data);
    bytes += data.length;
    files++;
  }
  if (spec.largeFiles > 0) {
    await appendFile(path.join(root, 'large', 'big0.bin'), rng.bytes(1024 * 1024));
    bytes += 1024 * 1024;
    files++;
  }
  return { filesChanged: files, bytesChanged: bytes };
}
