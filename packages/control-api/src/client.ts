/**
 * ControlClient: the client of convoy-daemon's control API (docs/control-api.md) over its unix
 * socket, with undici. One method per route; long work (restore into a new volume, backups) is
 * streamed as NDJSON and reported through `onProgress`. Every failure is a ControlApiError with a
 * stable code: the daemon's own, or CONVOY_DAEMON_* when the daemon could not be reached or
 * answered something unexpected. Aborting the signal closes the connection, which cancels the
 * work on the daemon.
 */
import { readFileSync, statSync } from 'node:fs';
import { Agent, type Dispatcher } from 'undici';
import { ConvoyError, errorCode, foreignCode, httpStatusOf, isErrorCode } from '@convoy/errors';
import type { z } from 'zod';
import {
  ApiErrorSchema,
  CreateBackupResponseSchema,
  DEFAULT_CONTROL_SOCKET,
  DeleteBackupResponseSchema,
  EmptyResponseSchema,
  InfoResponseSchema,
  InspectBackupResponseSchema,
  ListBackupsResponseSchema,
  ListSnapshotsResponseSchema,
  ListVolumesResponseSchema,
  MAX_REQUEST_BODY_BYTES,
  MountResponseSchema,
  NDJSON,
  ProgressEventSchema,
  SnapshotSchema,
  VolumeSchema,
  type ApiError,
  type BackupSummary,
  type CreateBackupRequest,
  type CreateBackupResponse,
  type CreateSnapshotRequest,
  type CreateVolumeRequest,
  type DeleteBackupResponse,
  type InfoResponse,
  type InspectBackupResponse,
  type MountRequest,
  type MountResponse,
  type ProgressEvent,
  type Snapshot,
  type Volume,
} from './types.js';

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
    super(isErrorCode(error.code) ? error.code : foreignCode(error.code), error.message, { ...(error.hint === undefined ? {} : { hint: error.hint }), cause: options.cause });
    this.status = options.status;
  }
}

export interface ControlClientOptions {
  /** The daemon's control socket (default /var/run/convoy/convoy.sock). */
  socketPath?: string;
  /** Milliseconds to wait for the answer and between chunks of it; 0 (the default) waits as long as the work takes. */
  timeoutMs?: number;
  /** Milliseconds to wait for the connection (default 10 s). */
  connectTimeoutMs?: number;
  /** Sent as User-Agent (e.g. "convoy/0.1.0"). */
  userAgent?: string;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface ListOptions extends CallOptions {
  /** Called for each record the daemon could not read (a corrupt record), which the list leaves out. */
  onProblem?: ((problem: ApiError) => void) | undefined;
}

export interface StreamOptions extends CallOptions {
  /** Called for each progress line of a streamed answer. */
  onProgress?: ((event: ProgressEvent) => void) | undefined;
}

export interface DeleteVolumeOptions extends CallOptions {
  /** Delete even while other hosts reference the volume (`?force=1`). */
  force?: boolean | undefined;
  /** Only drop the volume from the daemon and keep its data (`?reference=1`, Convoy's `delete -r`). */
  reference?: boolean | undefined;
}

/** NDJSON lines longer than this are refused (a progress or result line is a few hundred bytes). */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** How much of an unexpected error body is quoted in the message. */
const MAX_QUOTED_BODY = 300;
const ORIGIN = 'http://localhost';

interface Call {
  method: Dispatcher.HttpMethod;
  path: string;
  body?: unknown;
  stream?: boolean;
  onProgress?: ((event: ProgressEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export class ControlClient {
  readonly socketPath: string;
  readonly #agent: Agent;
  readonly #userAgent: string | undefined;

  constructor(options: ControlClientOptions = {}) {
    this.socketPath = options.socketPath ?? DEFAULT_CONTROL_SOCKET;
    const timeout = options.timeoutMs ?? 0;
    this.#agent = new Agent({
      connect: { socketPath: this.socketPath, timeout: options.connectTimeoutMs ?? 10_000 },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    this.#userAgent = options.userAgent;
  }

  info(o: CallOptions = {}): Promise<InfoResponse> {
    return this.#call({ method: 'GET', path: '/v1/info', ...o }, InfoResponseSchema);
  }

  async listVolumes(o: ListOptions = {}): Promise<Volume[]> {
    const answer = await this.#call({ method: 'GET', path: '/v1/volumes', signal: o.signal }, ListVolumesResponseSchema);
    reportProblems(answer.problems, o.onProblem);
    return answer.volumes;
  }

  /** Creates a volume; with `backup`, restores it from that backup URL, streaming progress. */
  createVolume(request: CreateVolumeRequest, o: StreamOptions = {}): Promise<Volume> {
    return this.#call({ method: 'POST', path: '/v1/volumes', body: request, stream: request.backup !== undefined, ...o }, VolumeSchema);
  }

  /** A volume by name or by a unique prefix of its UUID. */
  getVolume(nameOrUuidPrefix: string, o: CallOptions = {}): Promise<Volume> {
    return this.#call({ method: 'GET', path: `/v1/volumes/${seg(nameOrUuidPrefix)}`, ...o }, VolumeSchema);
  }

  async deleteVolume(name: string, o: DeleteVolumeOptions = {}): Promise<void> {
    const q = query({ force: o.force === true ? '1' : undefined, reference: o.reference === true ? '1' : undefined });
    await this.#call({ method: 'DELETE', path: `/v1/volumes/${seg(name)}${q}`, signal: o.signal }, EmptyResponseSchema);
  }

  async mountVolume(name: string, request: MountRequest = {}, o: CallOptions = {}): Promise<MountResponse> {
    return this.#call({ method: 'POST', path: `/v1/volumes/${seg(name)}/mount`, body: request, ...o }, MountResponseSchema);
  }

  async umountVolume(name: string, o: CallOptions = {}): Promise<void> {
    await this.#call({ method: 'POST', path: `/v1/volumes/${seg(name)}/umount`, ...o }, EmptyResponseSchema);
  }

  /** Snapshots of one volume, or of every volume. */
  async listSnapshots(volume?: string, o: ListOptions = {}): Promise<Snapshot[]> {
    const path = `/v1/snapshots${query({ volume })}`;
    const answer = await this.#call({ method: 'GET', path, signal: o.signal }, ListSnapshotsResponseSchema);
    reportProblems(answer.problems, o.onProblem);
    return answer.snapshots;
  }

  createSnapshot(request: CreateSnapshotRequest, o: CallOptions = {}): Promise<Snapshot> {
    return this.#call({ method: 'POST', path: '/v1/snapshots', body: request, ...o }, SnapshotSchema);
  }

  getSnapshot(name: string, o: CallOptions = {}): Promise<Snapshot> {
    return this.#call({ method: 'GET', path: `/v1/snapshots/${seg(name)}`, ...o }, SnapshotSchema);
  }

  async deleteSnapshot(name: string, o: CallOptions = {}): Promise<void> {
    await this.#call({ method: 'DELETE', path: `/v1/snapshots/${seg(name)}`, ...o }, EmptyResponseSchema);
  }

  /** Backs a snapshot up to `dest`, streaming progress; resolves to the backup's URL and id. */
  createBackup(request: CreateBackupRequest, o: StreamOptions = {}): Promise<CreateBackupResponse> {
    return this.#call({ method: 'POST', path: '/v1/backups', body: request, stream: true, ...o }, CreateBackupResponseSchema);
  }

  async listBackups(dest: string, volume?: string, o: CallOptions = {}): Promise<BackupSummary[]> {
    const path = `/v1/backups${query({ dest, volume })}`;
    return (await this.#call({ method: 'GET', path, ...o }, ListBackupsResponseSchema)).backups;
  }

  inspectBackup(url: string, o: CallOptions = {}): Promise<InspectBackupResponse> {
    return this.#call({ method: 'GET', path: `/v1/backups/inspect${query({ url })}`, ...o }, InspectBackupResponseSchema);
  }

  deleteBackup(url: string, o: CallOptions = {}): Promise<DeleteBackupResponse> {
    return this.#call({ method: 'DELETE', path: `/v1/backups${query({ url })}`, ...o }, DeleteBackupResponseSchema);
  }

  /** Closes the connections (waits for requests in flight). */
  close(): Promise<void> {
    return this.#agent.close();
  }

  async #call<T>(call: Call, schema: z.ZodType<T>): Promise<T> {
    const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
    const size = payload === undefined ? 0 : Buffer.byteLength(payload);
    if (size > MAX_REQUEST_BODY_BYTES) {
      throw new ControlApiError({
        code: CLIENT_ERROR.requestTooLarge,
        message: `the request to ${call.method} ${pathOnly(call.path)} is ${size} bytes; convoy-daemon accepts at most ${MAX_REQUEST_BODY_BYTES}`,
        hint: 'use fewer or shorter options and labels',
      });
    }
    const headers: Record<string, string> = { accept: call.stream === true ? `${NDJSON}, application/json` : 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (this.#userAgent !== undefined) headers['user-agent'] = this.#userAgent;
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#agent.request({ origin: ORIGIN, method: call.method, path: call.path, headers, body: payload ?? null, signal: call.signal ?? null });
    } catch (err) {
      throw this.#transportError(err, call.signal);
    }
    try {
      if (res.statusCode < 200 || res.statusCode >= 300) throw errorFromBody(res.statusCode, await readCapped(res.body, 64 * 1024));
      const type = String(res.headers['content-type'] ?? '');
      const value = type.startsWith(NDJSON) ? await readStream(res, call.onProgress) : parseAnswer(await res.body.text());
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue === undefined || issue.path.length === 0 ? '' : ` (${issue.path.join('.')}: ${issue.message})`;
        throw badResponse(`unexpected answer to ${call.method} ${pathOnly(call.path)}${where}: ${quote(JSON.stringify(value) ?? '')}`);
      }
      return parsed.data;
    } catch (err) {
      if (!res.body.destroyed) res.body.destroy();
      if (err instanceof ControlApiError) throw err;
      throw this.#transportError(err, call.signal);
    }
  }

  /** Maps what went wrong on the way (no answer, lost connection, abort) to a ControlApiError. */
  #transportError(err: unknown, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted === true) return signal.reason; // the caller's reason, as fetch() does
    if (err instanceof ControlApiError) return err;
    const code = deepCode(err);
    const socket = this.socketPath;
    const reason = err instanceof Error ? err.message : String(err);
    const start = `is convoy-daemon running? start it with \`convoy daemon\` or \`systemctl start convoy\`; socket: ${socket}`;
    switch (code) {
      case 'ENOENT':
      case 'ECONNREFUSED':
      case 'ENOTSOCK':
        return new ControlApiError(
          { code: CLIENT_ERROR.unreachable, message: `cannot connect to convoy-daemon at ${socket}: ${code === 'ENOENT' ? 'no such socket' : code === 'ENOTSOCK' ? 'not a socket' : 'nobody is listening'} (${code})`, hint: start },
          { cause: err },
        );
      case 'UND_ERR_CONNECT_TIMEOUT':
        return new ControlApiError({ code: CLIENT_ERROR.unreachable, message: `convoy-daemon at ${socket} does not accept connections (timed out)`, hint: start }, { cause: err });
      case 'EACCES':
      case 'EPERM':
        return new ControlApiError({ code: CLIENT_ERROR.accessDenied, message: `permission denied on the control socket ${socket}`, hint: accessHint(socket) }, { cause: err });
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT':
        return new ControlApiError(
          { code: CLIENT_ERROR.timeout, message: `convoy-daemon did not answer in time (${reason})`, hint: 'the daemon may be busy or stuck; check its log (journalctl -u convoy)' },
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
}

/** One path segment (names are validated by the daemon; encode anything anyway). */
const seg = (s: string): string => encodeURIComponent(s);

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** A path without its query (queries hold backup URLs, which may hold secrets). */
const pathOnly = (path: string): string => path.split('?')[0] ?? path;

function quote(text: string): string {
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

const badResponse = (message: string, cause?: unknown): ControlApiError =>
  new ControlApiError({ code: CLIENT_ERROR.badResponse, message, hint: 'convoy and convoy-daemon may be different versions: compare `convoy --version` with `convoy info`' }, { cause });

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badResponse(`convoy-daemon sent an ${what} that is not JSON: ${quote(text)}`, err);
  }
}

/** A plain JSON answer; an empty one (204, or `{}` left out) counts as `{}`. */
function parseAnswer(text: string): unknown {
  return text.trim() === '' ? {} : parseJson(text, 'answer');
}

function isApiError(v: unknown): v is ApiError {
  return ApiErrorSchema.safeParse(v).success;
}

/** A non-2xx answer: `{ error: { code, message, hint } }`, or whatever came, mapped by status. */
function errorFromBody(status: number, text: string): ControlApiError {
  try {
    const body = JSON.parse(text) as unknown;
    if (isObject(body) && isApiError(body.error)) return new ControlApiError(body.error, { status });
  } catch {
    // not JSON: described below
  }
  if (status === 413) {
    return new ControlApiError({ code: CLIENT_ERROR.requestTooLarge, message: 'convoy-daemon refused the request: its body is too large (413)', hint: 'use fewer or shorter options and labels' }, { status });
  }
  const code = status === 404 ? 'CONVOY_UNKNOWN_ROUTE' : status === 409 ? 'CONVOY_CONFLICT' : status === 400 ? 'CONVOY_INVALID_REQUEST' : CLIENT_ERROR.httpError;
  const shown = quote(text);
  return new ControlApiError(
    { code, message: `convoy-daemon answered ${status}${shown === '' ? '' : `: ${shown}`}`, hint: 'see the daemon\'s log for details (journalctl -u convoy)' },
    { status },
  );
}

async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    chunks.push(b);
    size += b.length;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads `{"type":"progress"|"result"|"error",…}` lines until the result or the error. */
async function readStream(res: Dispatcher.ResponseData, onProgress: ((e: ProgressEvent) => void) | undefined): Promise<unknown> {
  let pending = '';
  const handle = (line: string): { done: true; value: unknown } | undefined => {
    if (line.trim() === '') return undefined;
    const msg = parseJson(line, 'NDJSON line');
    if (!isObject(msg)) throw badResponse(`convoy-daemon sent a stream line that is not an object: ${quote(line)}`);
    if (msg.type === 'progress') {
      const progress = ProgressEventSchema.safeParse(msg);
      if (!progress.success) throw badResponse(`convoy-daemon sent a malformed progress line: ${quote(line)}`);
      onProgress?.(progress.data);
    }
    else if (msg.type === 'result') return { done: true, value: msg.result };
    else if (msg.type === 'error') {
      if (!isApiError(msg.error)) throw badResponse(`convoy-daemon sent a malformed error line: ${quote(line)}`);
      throw new ControlApiError(msg.error, { status: httpStatusOf(msg.error.code) });
    }
    return undefined; // unknown types are for newer clients
  };
  res.body.setEncoding('utf8');
  for await (const chunk of res.body) {
    pending += chunk as string;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const end = handle(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      if (end !== undefined) return end.value;
    }
    if (pending.length > MAX_LINE_BYTES) throw badResponse(`convoy-daemon sent a stream line over ${MAX_LINE_BYTES} bytes`);
  }
  const end = handle(pending);
  if (end !== undefined) return end.value;
  throw new ControlApiError({
    code: CLIENT_ERROR.connectionLost,
    message: 'convoy-daemon ended the progress stream without a result',
    hint: 'the daemon may have stopped or restarted (journalctl -u convoy); check whether the operation completed',
  });
}

/** A listing's `problems`, each as an ApiError (anything malformed in it is still reported, not dropped). */
function reportProblems(problems: unknown, onProblem: ((problem: ApiError) => void) | undefined): void {
  if (onProblem === undefined || !Array.isArray(problems)) return;
  for (const p of problems) {
    const o = isObject(p) ? p : {};
    onProblem({
      code: typeof o.code === 'string' ? o.code : CLIENT_ERROR.badResponse,
      message: typeof o.message === 'string' ? o.message : `convoy-daemon reported an unreadable record: ${JSON.stringify(p).slice(0, 200)}`,
      ...(typeof o.hint === 'string' ? { hint: o.hint } : {}),
    });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
