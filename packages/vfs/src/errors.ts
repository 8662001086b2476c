import { ConvoyError, type ConvoyErrorOptions, type ErrorCode } from '@convoy/errors';

export class VfsError extends ConvoyError {
  constructor(code: ErrorCode, message: string, options: ConvoyErrorOptions = {}) {
    super(code, message, options);
  }
}
