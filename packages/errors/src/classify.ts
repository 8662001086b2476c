import { ERROR_CATEGORIES, type ErrorCategory } from './categories.js';
import { errorCodeSpec } from './codes.js';
import { errorCode } from './convoy-error.js';

/** The category of a code; an unregistered code (another version's, or not Convoy's) is internal. */
export function categoryOf(code: string | undefined): ErrorCategory {
  return (code === undefined ? undefined : errorCodeSpec(code)?.category) ?? 'internal';
}

/** The HTTP status the daemon answers an error of this code with. */
export function httpStatusOf(code: string | undefined): number {
  const spec = code === undefined ? undefined : errorCodeSpec(code);
  return spec?.status ?? ERROR_CATEGORIES[categoryOf(code)].status;
}

/** The exit code a CLI ends with for this error (1 for anything that is not a Convoy error). */
export function exitCodeOf(err: unknown): number {
  return ERROR_CATEGORIES[categoryOf(errorCode(err))].exit;
}

/** The registry's hint for a code, when the raiser gave none. */
export function defaultHint(code: string): string | undefined {
  return errorCodeSpec(code)?.hint;
}
