import { ConvoyError, type ConvoyErrorOptions, type ErrorCode } from '@convoy/errors';

export class VolumeError extends ConvoyError {
  constructor(code: ErrorCode, message: string, options: ConvoyErrorOptions = {}) {
    super(code, message, options);
  }
}

export const volumeNotFound = (name: string, hint = 'convoy list shows the volumes'): VolumeError =>
  new VolumeError('CONVOY_VOLUME_NOT_FOUND', `volume ${name} does not exist`, { hint, details: { volume: name } });

export const volumeExists = (name: string): VolumeError =>
  new VolumeError('CONVOY_VOLUME_EXISTS', `volume ${name} already exists`, {
    hint: 'choose another name, or delete the old volume first',
    details: { volume: name },
  });

export const snapshotNotFound = (name: string): VolumeError =>
  new VolumeError('CONVOY_SNAPSHOT_NOT_FOUND', `snapshot ${name} does not exist`, {
    hint: 'convoy snapshot list VOLUME shows the snapshots',
    details: { snapshot: name },
  });

export const invalidRequest = (message: string, hint?: string): VolumeError =>
  new VolumeError('CONVOY_INVALID_ARGUMENT', message, { hint });

export const volumeInUse = (name: string, holders: readonly string[]): VolumeError =>
  new VolumeError('CONVOY_VOLUME_IN_USE', `volume ${name} is mounted on this host (by ${holders.join(', ')})`, {
    hint: holders.includes('cli') ? `convoy umount ${name}` : 'stop the containers that use it',
  });

export const snapshotExists = (name: string): VolumeError =>
  new VolumeError('CONVOY_SNAPSHOT_EXISTS', `snapshot ${name} already exists`, {
    hint: 'snapshot names are unique across volumes: choose another',
  });

/** A volume another host deleted (its driver keeps a tombstone): who and when, and how to drop Docker's stale reference. */
export const volumeDeleted = (name: string, t: { deletedBy: string; deletedAt: string }): VolumeError =>
  new VolumeError('CONVOY_VOLUME_DELETED', `volume ${name} was deleted by host ${t.deletedBy} at ${t.deletedAt}`, {
    hint: `run \`docker volume rm -f ${name}\` here to drop the stale reference (then re-create it if you need it)`,
    details: { volume: name, deletedBy: t.deletedBy, deletedAt: t.deletedAt },
  });
