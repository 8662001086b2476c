/**
 * ControlClient: the client of convoy-daemon's control API (docs/control-api.md) over its unix
 * socket, with undici. One method per route; long work (restore into a new volume, backups) is
 * streamed as NDJSON and reported through `onProgress`. Every failure is a ControlApiError with a
 * stable code: the daemon's own, or CONVOY_DAEMON_* when the daemon could not be reached or
 * answered something unexpected. Aborting the signal closes the connection, which cancels the
 * work on the daemon.
 */
import { Agent, type Dispatcher } from 'undici';
import { CLIENT_ERROR, ControlApiError, badResponse, errorFromBody, quote, transportError } from './client-errors.js';
import { parseAnswer, readCapped, readStream, reportProblems } from './client-answers.js';
import type { z } from 'zod';
import {
  CreateBackupResponseSchema,
  DEFAULT_CONTROL_SOCKET,
  DeleteBackupResponseSchema,
  EmptyResponseSchema,
  InfoResponseSchema,
  InspectBackupResponseSchema,
  ListBackupsResponseSchema,
  ListSchedulesResponseSchema,
  ListSnapshotsResponseSchema,
  ListVolumesResponseSchema,
  MAX_REQUEST_BODY_BYTES,
  MountResponseSchema,
  NDJSON,
  ScheduleSchema,
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
  type Schedule,
  type SetScheduleRequest,
} from './types.js';

export interface ControlClientOptions {
  /** The daemon's control socket (default /var/run/convoy/convoy.sock). */
  socketPath?: string;
  /** Milliseconds to wait for the answer and between chunks of it; 0 (the default) waits as long as the work takes. */
  timeoutMs?: number;
  /** Milliseconds to wait for the connection (default 10 s). */
  connectTimeoutMs?: number;
  /** Sent as User-Agent (e.g. "convoy/0.1.0"). */
  userAgent?: string;
  /** Called when each request is answered or fails (`convoy --debug` traces them); the path carries no query. */
  onRequest?: (event: RequestEvent) => void;
}

/** One request to the daemon, as ControlClientOptions.onRequest sees it. */
export interface RequestEvent {
  method: string;
  /** The path without its query (which may hold a backup URL). */
  path: string;
  /** The HTTP status, when an answer came. */
  status?: number;
  /** The error code, when it failed. */
  code?: string;
  /** Milliseconds from sending to the end of the answer. */
  ms: number;
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
  readonly #onRequest: ((event: RequestEvent) => void) | undefined;

  constructor(options: ControlClientOptions = {}) {
    this.socketPath = options.socketPath ?? DEFAULT_CONTROL_SOCKET;
    const timeout = options.timeoutMs ?? 0;
    this.#agent = new Agent({
      connect: { socketPath: this.socketPath, timeout: options.connectTimeoutMs ?? 10_000 },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    this.#userAgent = options.userAgent;
    this.#onRequest = options.onRequest;
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

  /** Rolls the snapshot's volume back to it, in place (refused while the volume is mounted); answers the snapshot. */
  restoreSnapshot(name: string, o: CallOptions = {}): Promise<Snapshot> {
    return this.#call({ method: 'POST', path: `/v1/snapshots/${seg(name)}/restore`, ...o }, SnapshotSchema);
  }

  async deleteSnapshot(name: string, o: CallOptions = {}): Promise<void> {
    await this.#call({ method: 'DELETE', path: `/v1/snapshots/${seg(name)}`, ...o }, EmptyResponseSchema);
  }

  /** Backs a snapshot up to `dest`, streaming progress; resolves to the backup's URL and id. */
  createBackup(request: CreateBackupRequest, o: StreamOptions = {}): Promise<CreateBackupResponse> {
    return this.#call({ method: 'POST', path: '/v1/backups', body: request, stream: true, ...o }, CreateBackupResponseSchema);
  }

  /** Ours and Rancher Convoy v0.5.2's (with `format` and `convoy`), oldest first. */
  async listBackups(dest: string, volume?: string, o: ListOptions = {}): Promise<BackupSummary[]> {
    const path = `/v1/backups${query({ dest, volume })}`;
    const answer = await this.#call({ method: 'GET', path, signal: o.signal }, ListBackupsResponseSchema);
    reportProblems(answer.problems, o.onProblem);
    return answer.backups;
  }

  inspectBackup(url: string, o: CallOptions = {}): Promise<InspectBackupResponse> {
    return this.#call({ method: 'GET', path: `/v1/backups/inspect${query({ url })}`, ...o }, InspectBackupResponseSchema);
  }

  deleteBackup(url: string, o: CallOptions = {}): Promise<DeleteBackupResponse> {
    return this.#call({ method: 'DELETE', path: `/v1/backups${query({ url })}`, ...o }, DeleteBackupResponseSchema);
  }

  listSchedules(o: CallOptions = {}): Promise<Schedule[]> {
    return this.#call({ method: 'GET', path: '/v1/schedules', ...o }, ListSchedulesResponseSchema).then((a) => a.schedules);
  }

  /** Backs the volume up on a schedule (replacing its earlier one); answers the saved policy. */
  setSchedule(request: SetScheduleRequest, o: CallOptions = {}): Promise<Schedule> {
    return this.#call({ method: 'POST', path: '/v1/schedules', body: request, ...o }, ScheduleSchema);
  }

  async removeSchedule(volume: string, o: CallOptions = {}): Promise<void> {
    await this.#call({ method: 'DELETE', path: `/v1/schedules/${seg(volume)}`, ...o }, EmptyResponseSchema);
  }

  /** Closes the connections (waits for requests in flight). */
  close(): Promise<void> {
    return this.#agent.close();
  }

  async #call<T>(call: Call, schema: z.ZodType<T>): Promise<T> {
    if (this.#onRequest === undefined) return this.#send(call, schema);
    const started = performance.now();
    let status: number | undefined;
    const event = (code?: string): RequestEvent => ({
      method: call.method,
      path: pathOnly(call.path),
      ...(status === undefined ? {} : { status }),
      ...(code === undefined ? {} : { code }),
      ms: Math.round(performance.now() - started),
    });
    try {
      const answer = await this.#send(call, schema, (s) => (status = s));
      this.#onRequest(event());
      return answer;
    } catch (err) {
      this.#onRequest(event(err instanceof ControlApiError ? err.code : 'ERROR'));
      throw err;
    }
  }

  async #send<T>(call: Call, schema: z.ZodType<T>, onStatus?: (status: number) => void): Promise<T> {
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
      res = await this.#agent.request({
        origin: ORIGIN,
        method: call.method,
        path: call.path,
        headers,
        body: payload ?? null,
        signal: call.signal ?? null,
      });
    } catch (err) {
      throw transportError(err, call.signal, this.socketPath);
    }
    onStatus?.(res.statusCode);
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
      throw transportError(err, call.signal, this.socketPath);
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
