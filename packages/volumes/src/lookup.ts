// Finding volumes and snapshots across the manager's drivers, and the error for one that is not there.
import { randomBytes } from 'node:crypto';
import { isConvoyError } from '@convoy/errors';
import type { VolumeDriver, VolumeInfo } from '@convoy/volume-driver';
import { validateVolumeName } from '@convoy/rules';
import { invalidRequest, volumeDeleted, volumeNotFound, type VolumeError } from './errors.js';
import type { ManagedSnapshot, ManagedVolume, SnapshotListing, VolumeListing } from './types.js';

export type Found = { driver: VolumeDriver; info: VolumeInfo };

/** The first driver that has a volume of this name, and its info. */
export async function findVolume(drivers: Iterable<VolumeDriver>, name: string): Promise<Found | undefined> {
  for (const driver of drivers) {
    const info = await driver.get(name);
    if (info !== undefined) return { driver, info };
  }
  return undefined;
}

/** The error for a volume that is not there, with the story if a driver knows it (deleted elsewhere). */
export async function missingVolume(drivers: Iterable<VolumeDriver>, name: string): Promise<VolumeError> {
  for (const d of drivers) {
    const t = await d.tombstone?.(name);
    if (t !== undefined) return volumeDeleted(name, t);
  }
  return volumeNotFound(name);
}

/**
 * A snapshot by name in a listing. Not found while that snapshot's record is corrupt is that error;
 * with `strict` (inspect, delete), so is any unreadable record (it may hold the snapshot). Without
 * (create's check that the name is free), other unreadable records do not block.
 */
export function pickSnapshot({ snapshots, problems }: SnapshotListing, name: string, strict: boolean): ManagedSnapshot | undefined {
  const found = snapshots.find((s) => s.name === name);
  if (found !== undefined) return found;
  const about = problems.find((p) => isConvoyError(p) && p.details?.snapshot === name) ?? (strict ? problems[0] : undefined);
  if (about !== undefined) throw about;
  return undefined;
}

/** `<volume>-snap-<UTC yyyymmddhhmmssmmm>-<4 hex>`: Convoy's snapshot name when none is given. */
export function defaultSnapshotName(volume: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 17);
  return `${volume.slice(0, 80)}-snap-${stamp}-${randomBytes(2).toString('hex')}`;
}

/**
 * The one volume whose UUID starts with `prefix` (of at least 4 characters), or undefined. Several
 * is CONVOY_INVALID_ARGUMENT; an unknown prefix that looks like a UUID while some record could not
 * be read is that record's error (it may be the one meant); a prefix that is no valid name either
 * is the name rule's error.
 */
export function pickByUuidPrefix({ volumes, problems }: VolumeListing, prefix: string): ManagedVolume | undefined {
  const matches = volumes.filter((v) => v.uuid.startsWith(prefix) && prefix.length >= 4);
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw invalidRequest(`"${prefix}" matches ${matches.length} volumes`, 'give more of the UUID, or the name');
  validateVolumeName(prefix);
  if (problems[0] !== undefined && /^[0-9a-f-]{4,36}$/i.test(prefix)) throw problems[0];
  return undefined;
}
