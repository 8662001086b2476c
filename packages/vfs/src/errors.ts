import { ConvoyError, type ConvoyErrorOptions } from '@convoy/errors';

export class VfsError extends ConvoyError {
  constructor(code: string, message: string, options: ConvoyErrorOptions = {}) {
    super(code, message, options);
  }
}
