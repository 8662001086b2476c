export {
  ConvoyError,
  isConvoyError,
  errorCode,
  foreignCode,
  type ConvoyErrorJSON,
  type ConvoyErrorOptions,
  type ForeignCode,
} from './convoy-error.js';
export { ERROR_CODES, isErrorCode, errorCodeSpec, type ErrorCode, type ErrorCodeSpec } from './codes.js';
export { ERROR_CATEGORIES, EXIT, type CategorySpec, type ErrorCategory } from './categories.js';
export { categoryOf, defaultHint, exitCodeOf, httpStatusOf } from './classify.js';
export { redactUrl, redactSecrets } from './redact.js';
export { renderErrorsDoc } from './doc.js';
