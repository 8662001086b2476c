import { invalidArgument } from './errors.js';

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/**
 * A size as users write it: bytes (`1073741824`) or a number with a binary unit (`100G`, `512m`,
 * `1.5GiB`, `64K`). Units are powers of 1024, as Convoy and Docker read them.
 */
export function parseSize(text: string | number, what = 'size'): number {
  if (typeof text === 'number') {
    if (!Number.isSafeInteger(text) || text <= 0) throw invalidArgument(`${what} must be a positive whole number of bytes, got ${text}`);
    return text;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$/i.exec(text);
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()];
  if (m === null || unit === undefined) {
    throw invalidArgument(`${what} "${text}" is not a size`, 'write a size as bytes or with a unit: 512M, 10G, 1T');
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw invalidArgument(`${what} "${text}" is out of range`);
  return bytes;
}

/** 1073741824 → "1 GiB", 3145728 → "3 MiB", 1000 → "1000 B". */
export function formatSize(bytes: number): string {
  for (const [u, n] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= n && bytes % (n / 1024) === 0) {
      const v = bytes / n;
      return `${Number.isInteger(v) ? v : v.toFixed(2)} ${u}`;
    }
  }
  return `${bytes} B`;
}

export function roundUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}
