import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SnapshotSource } from './source.js';

/** An in-memory SnapshotSource over a Buffer (tests only). */
export class BufferSource implements SnapshotSource {
  readonly size: number;
  reads = 0;
  bytesRead = 0;
  readonly data: Buffer;
  constructor(data: Buffer) {
    this.data = data;
    this.size = data.length;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    this.reads++;
    this.bytesRead += length;
    return Buffer.from(this.data.subarray(offset, offset + length));
  }
  async close(): Promise<void> {}
}

export const MiB = 1024 * 1024;

/** Deterministic-ish mixed content: random, compressible text and zero regions, in 2 MiB blocks. */
export function mixedVolume(blocks: number, tail = 0): Buffer {
  const buf = Buffer.alloc(blocks * 2 * MiB + tail);
  for (let b = 0; b < blocks; b++) {
    const kind = b % 3;
    const o = b * 2 * MiB;
    if (kind === 0) randomBytes(2 * MiB).copy(buf, o);
    else if (kind === 1) buf.write(`block ${b} `.repeat((2 * MiB) / 16), o, 2 * MiB, 'latin1');
  }
  if (tail > 0) randomBytes(tail).copy(buf, blocks * 2 * MiB);
  return buf;
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}
