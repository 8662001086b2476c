import { ConvoyError } from '@convoy/errors';

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/**
 * The one size grammar: bytes (`1073741824`), or a number with a binary unit and an optional `i`
 * and/or `B` (`100G`, `100Gi`, `100GiB`, `100GB`, `512m`, `1.5T`). Units are powers of 1024, as
 * Rancher Convoy and Docker read them. A number is taken as bytes. Throws CONVOY_SIZE_INVALID.
 */
export function parseSize(text: string | number, what = 'size'): number {
  if (typeof text === 'number') {
    if (!Number.isSafeInteger(text) || text <= 0) throw sizeInvalid(`invalid ${what} ${text}: not a positive whole number of bytes`);
    return text;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)(b?)\s*$/i.exec(text);
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()];
  if (m === null || unit === undefined || (m[2] === '' && m[3] !== ''))
    throw sizeInvalid(`invalid ${what} ${JSON.stringify(text.slice(0, 40))}: not a size`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw sizeInvalid(`invalid ${what} ${JSON.stringify(text)}: out of range (1 byte to 8 PiB)`);
  return bytes;
}

const sizeInvalid = (message: string): ConvoyError => new ConvoyError('CONVOY_SIZE_INVALID', message);

/** 1073741824 → "1 GiB", 3145728 → "3 MiB", 1000 → "1000 B": exact binary units, else bytes. */
export function formatSize(bytes: number): string {
  for (const [u, n] of [
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= n && bytes % (n / 1024) === 0) {
      const v = bytes / n;
      return `${Number.isInteger(v) ? v : v.toFixed(2)} ${u}`;
    }
  }
  return `${bytes} B`;
}
