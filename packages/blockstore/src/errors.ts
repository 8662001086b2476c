import { ConvoyError, type ConvoyErrorOptions, type ErrorCode } from '@convoy/errors';

export class BlockstoreError extends ConvoyError {
  constructor(code: ErrorCode, message: string, options: ConvoyErrorOptions = {}) {
    super(code, message, options);
  }
}

export const formatUnsupported = (what: string, found: unknown): BlockstoreError =>
  new BlockstoreError('CONVOY_FORMAT_UNSUPPORTED', `${what} has unsupported format or version ${JSON.stringify(found)}`, {
    hint: 'this store was written by a newer or different program; upgrade convoy',
  });

export const manifestInvalid = (key: string, reason: string): BlockstoreError =>
  new BlockstoreError('CONVOY_MANIFEST_INVALID', `backup manifest ${key} is invalid: ${reason}`, {
    hint: 'run `convoy-backup verify` on the store; the backup may have to be deleted',
    details: { key },
  });

export const blockCorrupt = (key: string, reason: string): BlockstoreError =>
  new BlockstoreError('CONVOY_BLOCK_CORRUPT', `block ${key} is corrupt: ${reason}`, {
    hint: 'run `convoy-backup verify --read-data` to find every damaged backup',
    details: { key },
  });

export const blockMissing = (key: string): BlockstoreError =>
  new BlockstoreError('CONVOY_BLOCK_MISSING', `block ${key} is missing from the store`, {
    hint: 'run `convoy-backup verify` to find every affected backup',
    details: { key },
  });

export const invalidInput = (message: string, hint?: string): BlockstoreError =>
  new BlockstoreError('CONVOY_INVALID_ARGUMENT', message, { hint });
