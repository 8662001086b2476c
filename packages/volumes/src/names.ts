import { invalidRequest } from './errors.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Volume and snapshot names: Docker's charset, at most 128 characters, no "..". */
export function validateName(kind: 'volume' | 'snapshot', name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name) || name.includes('..')) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 60)) : String(name);
    throw invalidRequest(`invalid ${kind} name ${shown}`, `${kind} names are 1-128 characters of A-Z a-z 0-9 _ . - and start with a letter or digit`);
  }
}

/** Parses sizes as Convoy accepted them: bytes, or a number with k/m/g/t (powers of 1024), optional "i"/"b". */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$/i.exec(text);
  if (m === null) throw invalidRequest(`invalid size "${text}"`, 'e.g. 10G, 512M, 1073741824');
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g' | 't' | 'p'];
  const n = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(n) || n <= 0) throw invalidRequest(`invalid size "${text}"`, 'sizes must be positive');
  return n;
}
