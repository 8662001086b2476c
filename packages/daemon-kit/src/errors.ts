import { ConvoyError, type ConvoyErrorOptions } from '@convoy/errors';

export class MountStateInvalidError extends ConvoyError {
  constructor(reason: string) {
    super('CONVOY_MOUNT_STATE_INVALID', `invalid mount reference state: ${reason}`, {
      hint: 'the saved state must be an object mapping volume names to arrays of caller IDs',
    });
  }
}

export class SocketInUseError extends ConvoyError {
  constructor(socketPath: string) {
    super('CONVOY_SOCKET_IN_USE', `another server answers on ${socketPath}`, {
      hint: 'stop the other convoy daemon first (systemctl stop convoy), then start this one',
      details: { socketPath },
    });
  }
}

export class SocketPathError extends ConvoyError {
  constructor(socketPath: string, reason: string, options: ConvoyErrorOptions = {}) {
    super('CONVOY_SOCKET_PATH_INVALID', `cannot use ${socketPath} as a socket: ${reason}`, {
      hint: 'choose a short path (under 100 bytes) in a directory the daemon can write, such as /run/docker/plugins/convoy.sock or /var/run/convoy/convoy.sock',
      ...options,
      details: { socketPath, ...options.details },
    });
  }
}
