// The client's errors: the daemon's answers as ControlApiErrors, and what goes wrong on the way
// (no daemon, no permission, a lost connection, a timeout, an answer of the wrong shape).
import { readFileSync, statSync } from 'node:fs';
import { ConvoyError, errorCode, foreignCode, isErrorCode } from '@convoy/errors';
import { ApiErrorSchema, type ApiError } from './types.js';

/** Codes the client itself raises (the daemon's codes pass through unchanged). */
export const CLIENT_ERROR = {
  unreachable: 'CONVOY_DAEMON_UNREACHABLE',
  accessDenied: 'CONVOY_DAEMON_ACCESS_DENIED',
  connectionLost: 'CONVOY_DAEMON_CONNECTION_LOST',
  timeout: 'CONVOY_DAEMON_TIMEOUT',
  badResponse: 'CONVOY_DAEMON_BAD_RESPONSE',
  requestTooLarge: 'CONVOY_REQUEST_TOO_LARGE',
  httpError: 'CONVOY_DAEMON_ERROR',
} as const;

/** An error answered by convoy-daemon (code, message, hint as it sent them) or met on the way to it. */
export class ControlApiError extends ConvoyError {
  /** The HTTP status the daemon answered with; undefined when no answer came. */
  readonly status: number | undefined;

  constructor(error: ApiError, options: { status?: number | undefined; cause?: unknown } = {}) {
    super(isErrorCode(error.code) ? error.code : foreignCode(error.code), error.message, { hint: error.hint, cause: options.cause });
    this.status = options.status;
  }
}

/** How much of an unexpected error body is quoted in the message. */
const MAX_QUOTED_BODY = 300;

/** Maps what went wrong on the way to `socket` (no answer, lost connection, abort) to a ControlApiError. */
export function transportError(err: unknown, signal: AbortSignal | undefined, socket: string): unknown {
  if (signal?.aborted === true) return signal.reason; // the caller's reason, as fetch() does
  if (err instanceof ControlApiError) return err;
  const code = deepCode(err);
  const reason = err instanceof Error ? err.message : String(err);
  const start = `is convoy-daemon running? start it with \`convoy daemon\` or \`systemctl start convoy\`; socket: ${socket}`;
  switch (code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
    case 'ENOTSOCK':
      return new ControlApiError(
        {
          code: CLIENT_ERROR.unreachable,
          message: `cannot connect to convoy-daemon at ${socket}: ${code === 'ENOENT' ? 'no such socket' : code === 'ENOTSOCK' ? 'not a socket' : 'nobody is listening'} (${code})`,
          hint: start,
        },
        { cause: err },
      );
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new ControlApiError(
        { code: CLIENT_ERROR.unreachable, message: `convoy-daemon at ${socket} does not accept connections (timed out)`, hint: start },
        { cause: err },
      );
    case 'EACCES':
    case 'EPERM':
      return new ControlApiError(
        { code: CLIENT_ERROR.accessDenied, message: `permission denied on the control socket ${socket}`, hint: accessHint(socket) },
        { cause: err },
      );
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new ControlApiError(
        {
          code: CLIENT_ERROR.timeout,
          message: `convoy-daemon did not answer in time (${reason})`,
          hint: 'the daemon may be busy or stuck; check its log (journalctl -u convoy)',
        },
        { cause: err },
      );
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_CLOSED':
      return new ControlApiError(
        {
          code: CLIENT_ERROR.connectionLost,
          message: `the connection to convoy-daemon was lost before it answered (${reason})`,
          hint: 'the daemon may have stopped or restarted (journalctl -u convoy); the operation may not have completed: check with `convoy list` or `convoy info`',
        },
        { cause: err },
      );
    default:
      return err;
  }
}

export function quote(text: string): string {
  const t = text.trim();
  return t.length > MAX_QUOTED_BODY ? `${t.slice(0, MAX_QUOTED_BODY)}…` : t;
}

function deepCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = errorCode(e);
    if (code !== undefined && code !== 'UND_ERR_SOCKET') return code;
    if (code === 'UND_ERR_SOCKET') {
      const inner = deepCode((e as { cause?: unknown }).cause);
      return inner ?? code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function accessHint(socket: string): string {
  let group = 'its group';
  try {
    const gid = statSync(socket).gid;
    const line = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(gid));
    group = line === undefined ? `group ${gid}` : `group ${line.split(':')[0]}`;
  } catch {
    // best effort: the hint stays general
  }
  return `the control socket is mode 0660: run convoy as root or as a member of ${group} (ls -l ${socket}; e.g. \`sudo usermod -aG GROUP $USER\` and log in again)`;
}

export const badResponse = (message: string, cause?: unknown): ControlApiError =>
  new ControlApiError(
    {
      code: CLIENT_ERROR.badResponse,
      message,
      hint: 'convoy and convoy-daemon may be different versions: compare `convoy --version` with `convoy info`',
    },
    { cause },
  );

export function isApiError(v: unknown): v is ApiError {
  return ApiErrorSchema.safeParse(v).success;
}

/** A non-2xx answer: `{ error: { code, message, hint } }`, or whatever came, mapped by status. */
export function errorFromBody(status: number, text: string): ControlApiError {
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null && 'error' in body && isApiError(body.error))
      return new ControlApiError(body.error, { status });
  } catch {
    // not JSON: described below
  }
  if (status === 413) {
    return new ControlApiError(
      {
        code: CLIENT_ERROR.requestTooLarge,
        message: 'convoy-daemon refused the request: its body is too large (413)',
        hint: 'use fewer or shorter options and labels',
      },
      { status },
    );
  }
  const code =
    status === 404
      ? 'CONVOY_UNKNOWN_ROUTE'
      : status === 409
        ? 'CONVOY_CONFLICT'
        : status === 400
          ? 'CONVOY_INVALID_REQUEST'
          : CLIENT_ERROR.httpError;
  const shown = quote(text);
  return new ControlApiError(
    {
      code,
      message: `convoy-daemon answered ${status}${shown === '' ? '' : `: ${shown}`}`,
      hint: "see the daemon's log for details (journalctl -u convoy)",
    },
    { status },
  );
}
