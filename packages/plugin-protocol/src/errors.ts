import { ConvoyError, type ConvoyErrorOptions } from '@convoy/errors';

/** A request Docker (or anyone on the socket) sent that cannot be served as it is. */
export class InvalidRequestError extends ConvoyError {
  constructor(message: string, options: ConvoyErrorOptions = {}) {
    super('CONVOY_PLUGIN_REQUEST_INVALID', message, {
      hint: 'the body must be a JSON object with the fields of the Docker VolumeDriver protocol',
      ...options,
    });
  }
}

/** Answered with HTTP 404, as for any path a plugin does not implement. */
export class UnknownEndpointError extends ConvoyError {
  constructor(path: string) {
    super('CONVOY_PLUGIN_ENDPOINT_UNKNOWN', `unknown plugin endpoint ${quote(path)}`, {
      hint: 'this plugin implements Plugin.Activate and VolumeDriver.{Create,Remove,Mount,Unmount,Path,Get,List,Capabilities}',
    });
  }
}

export class RequestTooLargeError extends ConvoyError {
  constructor(limit: number) {
    super('CONVOY_PLUGIN_REQUEST_TOO_LARGE', `request body larger than ${limit} bytes`, {
      hint: 'VolumeDriver requests are small JSON objects; check what is writing to the plugin socket',
    });
  }
}

export class VolumeNotFoundError extends ConvoyError {
  constructor(name: string) {
    super('CONVOY_VOLUME_NOT_FOUND', `volume ${quote(name)} not found`, {
      hint: 'docker volume ls and convoy list show the volumes that exist',
    });
  }
}

export class VolumeInUseError extends ConvoyError {
  constructor(name: string, holders: number) {
    super('CONVOY_VOLUME_IN_USE', `volume ${quote(name)} is mounted by ${holders} container${holders === 1 ? '' : 's'}`, {
      hint: 'stop or remove the containers that use it first',
      details: { holders },
    });
  }
}

export class PluginTimeoutError extends ConvoyError {
  constructor(endpoint: string, ms: number) {
    super('CONVOY_PLUGIN_TIMEOUT', `${endpoint.slice(1)} did not finish within ${ms} ms`, {
      hint: 'the operation may still complete; check the convoy daemon log and retry',
    });
  }
}

/** The backend answered something the protocol cannot carry (an empty mountpoint, a bad scope). */
export class BackendContractError extends ConvoyError {
  constructor(message: string) {
    super('CONVOY_PLUGIN_BACKEND_INVALID', message, { hint: 'this is a bug in the convoy daemon; please report it' });
  }
}

/** The client got an answer that is not the JSON a plugin sends. */
export class InvalidResponseError extends ConvoyError {
  constructor(message: string) {
    super('CONVOY_PLUGIN_RESPONSE_INVALID', message, { hint: 'is a VolumeDriver plugin listening on this socket?' });
  }
}

/** A name for messages: JSON-quoted (NUL and control characters escaped) and cut at 80 characters. */
export function quote(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(cut);
}
