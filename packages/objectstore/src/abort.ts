import { OperationAbortedError } from './errors.js';

/** Throws OperationAbortedError if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw new OperationAbortedError(what, { cause: signal.reason });
}
