import { randomBytes } from 'node:crypto';
import { invalidInput } from '../errors.js';

const BACKUP_ID = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;

export function validateBackupId(id: string): void {
  if (typeof id !== 'string' || !BACKUP_ID.test(id)) {
    throw invalidInput(`invalid backup id ${JSON.stringify(String(id).slice(0, 80))}`, 'backup ids look like 20261124T170000123Z-3f9a1c');
  }
}

/**
 * `YYYYMMDDTHHMMSSmmmZ-xxxxxx` (UTC, milliseconds): sortable by creation time, unique by its random
 * suffix. Strictly greater than `after` (the volume's newest backup), even if clocks went back or
 * two backups fall in the same millisecond, so "latest" is always the last one made.
 */
export function newBackupId(now: Date, after?: string, random: () => Buffer = () => randomBytes(3)): string {
  let t = now.getTime();
  if (after !== undefined) t = Math.max(t, idTime(after) + 1);
  const iso = new Date(t).toISOString(); // 2026-11-24T17:00:00.123Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}Z`;
  return `${stamp}-${random().toString('hex').slice(0, 6).padEnd(6, '0')}`;
}

/** The creation time (ms since the epoch) encoded in a backup id. */
export function idTime(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-/.exec(id);
  if (m === null) return 0;
  const [, y, mo, d, h, mi, se, ms] = m.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, se, ms);
}
