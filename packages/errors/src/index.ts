export { ConvoyError, isConvoyError, errorCode, type ConvoyErrorJSON, type ConvoyErrorOptions } from './convoy-error.js';
export { redactUrl, redactSecrets } from './redact.js';
