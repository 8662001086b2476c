import { errorCodeSpec, type ErrorCode } from './codes.js';

/**
 * A code received from another process (the daemon's answer, a JSON error line) that this build
 * may not know: made with `foreignCode`, never written as a literal.
 */
export type ForeignCode = string & { readonly __foreign: unique symbol };

/** Marks a code that came over the wire, so it can be carried by a ConvoyError unchecked. */
export const foreignCode = (code: string): ForeignCode => code as ForeignCode;

/**
 * The one error base class of Convoy. Every error a user can see has a stable `code`
 * (e.g. `CONVOY_OBJECT_NOT_FOUND`) that scripts can branch on, a message that says what
 * happened, and a `hint` that says what to do about it.
 */
export interface ConvoyErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra facts for logs and `--json` (never secrets). */
  details?: Record<string, unknown>;
}

export interface ConvoyErrorJSON {
  code: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

export class ConvoyError extends Error {
  readonly code: ErrorCode | ForeignCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  /** `code` is registered in codes.ts (its hint is the default), or came over the wire. */
  constructor(code: ErrorCode | ForeignCode, message: string, options: ConvoyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint ?? errorCodeSpec(code)?.hint;
    this.details = options.details;
  }

  toJSON(): ConvoyErrorJSON {
    const out: ConvoyErrorJSON = { code: this.code, message: this.message };
    if (this.hint !== undefined) out.hint = this.hint;
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

export function isConvoyError(err: unknown, code?: ErrorCode): err is ConvoyError {
  return err instanceof ConvoyError && (code === undefined || err.code === code);
}

/** The `code` of any error: a ConvoyError's code, a Node system error's code, or undefined. */
export function errorCode(err: unknown): string | undefined {
  if (err instanceof ConvoyError) return err.code;
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
