import { ConvoyError, type ConvoyErrorOptions, type ErrorCode } from '@convoy/errors';

/** Any failure of an object store operation that is not one of the specific cases below. */
export class ObjectStoreError extends ConvoyError {
  constructor(message: string, options: ConvoyErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? 'CONVOY_OBJECTSTORE_FAILED', message, options);
  }
}

export class ObjectNotFoundError extends ObjectStoreError {
  readonly key: string;
  constructor(location: string, key: string, options: ConvoyErrorOptions = {}) {
    super(`object ${key} not found in ${location}`, {
      ...options,
      code: 'CONVOY_OBJECT_NOT_FOUND',
      details: { location, key, ...options.details },
    });
    this.key = key;
  }
}

export class ObjectExistsError extends ObjectStoreError {
  readonly key: string;
  constructor(location: string, key: string, options: ConvoyErrorOptions = {}) {
    super(`object ${key} already exists in ${location}`, {
      ...options,
      code: 'CONVOY_OBJECT_EXISTS',
      details: { location, key, ...options.details },
    });
    this.key = key;
  }
}

export class InvalidKeyError extends ObjectStoreError {
  constructor(key: string, reason: string) {
    super(`invalid object key ${JSON.stringify(key.slice(0, 120))}: ${reason}`, {
      code: 'CONVOY_OBJECT_KEY_INVALID',
      hint: 'keys are relative paths of [A-Za-z0-9._!-] segments separated by "/", without "." or ".." segments',
    });
  }
}

export class InvalidStoreUrlError extends ObjectStoreError {
  constructor(message: string, hint?: string) {
    super(message, {
      code: 'CONVOY_STORE_URL_INVALID',
      hint: hint ?? 'use vfs:///absolute/path or s3://bucket@region/prefix',
    });
  }
}

export class OperationAbortedError extends ObjectStoreError {
  constructor(what: string, options: ConvoyErrorOptions = {}) {
    super(`${what} was cancelled`, { ...options, code: 'CONVOY_ABORTED' });
  }
}
