import { ConvoyError, type ConvoyErrorOptions, type ErrorCode } from '@convoy/errors';

/** Every error @convoy/devmapper throws: a stable `code` and a hint for the user. */
export class DevmapperError extends ConvoyError {
  constructor(code: ErrorCode, message: string, options: ConvoyErrorOptions = {}) {
    super(code, message, options);
  }
}

export const DM_UNAVAILABLE_HINT = 'load the kernel modules (`modprobe dm_thin_pool`), or use directory volumes (`--drivers vfs`)';

export const dmUnavailable = (reason: string, cause?: unknown): DevmapperError =>
  new DevmapperError('CONVOY_DM_UNAVAILABLE', `device-mapper is not available: ${reason}`, {
    hint: DM_UNAVAILABLE_HINT,
    cause,
  });

export const invalidArgument = (message: string, hint?: string): DevmapperError =>
  new DevmapperError('CONVOY_INVALID_ARGUMENT', message, { hint });

export const volumeNotFound = (name: string): DevmapperError =>
  new DevmapperError('CONVOY_VOLUME_NOT_FOUND', `volume ${name} does not exist`, {
    hint: 'list the volumes of the devicemapper driver (`convoy list`)',
    details: { volume: name },
  });

export const snapshotNotFound = (volume: string, snapshot: string): DevmapperError =>
  new DevmapperError('CONVOY_SNAPSHOT_NOT_FOUND', `snapshot ${snapshot} of volume ${volume} does not exist`, {
    hint: `list the snapshots of ${volume} (\`convoy snapshot list ${volume}\`)`,
    details: { volume, snapshot },
  });

export const volumeInUse = (name: string, why: string, hint: string): DevmapperError =>
  new DevmapperError('CONVOY_VOLUME_IN_USE', `volume ${name} ${why}`, { hint, details: { volume: name } });
