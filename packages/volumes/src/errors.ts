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
