/**
 * What kind of failure an error code is, and what that means at each edge: the daemon's HTTP
 * status and the CLIs' exit code. docs/errors.md lists them.
 */
export type ErrorCategory = 'usage' | 'not-found' | 'conflict' | 'corrupt' | 'unavailable' | 'failed' | 'interrupted' | 'internal';

export interface CategorySpec {
  readonly meaning: string;
  readonly status: number;
  readonly exit: number;
}

/** The exit codes of every Convoy CLI. */
export const EXIT = {
  ok: 0,
  /** The operation failed (not found, in use, unreachable, an I/O error, a bug). */
  failed: 1,
  /** The command line or request was wrong: unknown flag, missing argument, a bad name, URL or value. */
  usage: 2,
  /** Stored data is damaged: a corrupt store object, record or state file (and `verify` found problems). */
  corrupt: 3,
  /** Interrupted by SIGINT (128 + 2); SIGTERM gives 143. */
  interrupted: 130,
} as const;

export const ERROR_CATEGORIES: Readonly<Record<ErrorCategory, CategorySpec>> = {
  usage: { meaning: 'the request or command line asks for something invalid', status: 400, exit: EXIT.usage },
  'not-found': { meaning: 'what it names does not exist', status: 404, exit: EXIT.failed },
  conflict: { meaning: 'the current state forbids it (exists, in use, locked)', status: 409, exit: EXIT.failed },
  corrupt: { meaning: 'stored data is damaged; it is never read as absent', status: 500, exit: EXIT.corrupt },
  unavailable: { meaning: 'something outside Convoy cannot serve now (daemon, store, kernel, a tool)', status: 503, exit: EXIT.failed },
  failed: { meaning: 'the operation failed for an outside reason (I/O, a program Convoy ran)', status: 500, exit: EXIT.failed },
  interrupted: {
    meaning: 'stopped on request (signal or cancelled request), leaving a consistent state',
    status: 499,
    exit: EXIT.interrupted,
  },
  internal: { meaning: 'a bug in Convoy, or an answer from a mismatched version', status: 500, exit: EXIT.failed },
};
