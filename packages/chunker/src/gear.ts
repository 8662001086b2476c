import { createHash } from 'node:crypto';

const tables = new Map<string, Int32Array>();

/**
 * The 256-entry gear table of a seed: entry i is the first 4 bytes (little endian, signed) of
 * sha256(`${seed}:${i}`). Deterministic on every platform, so it needs no checked-in table;
 * gear.test.ts pins the default seed's table by its hash.
 */
export function gearTable(seed: string): Int32Array {
  let t = tables.get(seed);
  if (t === undefined) {
    t = new Int32Array(256);
    for (let i = 0; i < 256; i++) t[i] = createHash('sha256').update(`${seed}:${i}`).digest().readInt32LE(0);
    tables.set(seed, t);
  }
  return t;
}
