// Deterministic test data (not exported from the package).
import { createCipheriv, createHash } from 'node:crypto';

/** `length` pseudo-random bytes from a seed (AES-256-CTR keystream keyed by the seed). */
export function randomData(seed: number, length: number): Buffer {
  const key = createHash('sha256').update(`convoy-test-data:${seed}`).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

/** Splits data into pieces of the given sizes (cycled), to feed a stream in odd reads. */
export async function* pieces(data: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  for (let at = 0, k = 0; at < data.length; k++) {
    const n = Math.max(1, sizes[k % sizes.length] ?? data.length);
    yield data.subarray(at, at + n);
    at += n;
  }
}
