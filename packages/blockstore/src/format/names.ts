import { randomBytes } from 'node:crypto';
import { invalidInput } from '../errors.js';

const VOLUME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const BACKUP_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

export function validateVolumeName(name: string): void {
  if (typeof name !== 'string' || !VOLUME.test(name) || name.includes('..')) {
    throw invalidInput(
      `invalid volume name ${JSON.stringify(String(name).slice(0, 140))}`,
      'volume names are 1-128 characters of A-Z a-z 0-9 _ . - and start with a letter or digit',
    );
  }
}

export function validateBackupId(id: string): void {
  if (typeof id !== 'string' || !BACKUP_ID.test(id)) {
    throw invalidInput(`invalid backup id ${JSON.stringify(String(id).slice(0, 80))}`, 'backup ids look like 20261124T170000Z-3f9a1c');
  }
}

/** `YYYYMMDDTHHMMSSZ-xxxxxx`: sortable by creation time, unique by its random suffix. */
export function newBackupId(now: Date, random: () => Buffer = () => randomBytes(3)): string {
  const iso = now.toISOString(); // 2026-11-24T17:00:00.000Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return `${stamp}-${random().toString('hex').slice(0, 6).padEnd(6, '0')}`;
}
