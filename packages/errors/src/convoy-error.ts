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
  readonly code: string;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: ConvoyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  toJSON(): ConvoyErrorJSON {
    const out: ConvoyErrorJSON = { code: this.code, message: this.message };
    if (this.hint !== undefined) out.hint = this.hint;
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

export function isConvoyError(err: unknown, code?: string): err is ConvoyError {
  return err instanceof ConvoyError && (code === undefined || err.code === code);
}

/** The `code` of any error: a ConvoyError's code, a Node system error's code, or undefined. */
export function errorCode(err: unknown): string | undefined {
  if (err instanceof ConvoyError) return err.code;
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
