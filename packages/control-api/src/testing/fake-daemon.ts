/**
 * A test double of convoy-daemon's control API: a node:http server on a unix socket in a temp
 * directory that records every request and answers from routes a test sets. For unit tests of
 * clients (ControlClient, the convoy CLI); integration tests use the real daemon.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { MAX_REQUEST_BODY_BYTES, NDJSON, type ApiError } from '../types.js';

export interface RecordedRequest {
  method: string;
  /** Path with the query, as sent. */
  path: string;
  pathname: string;
  query: URLSearchParams;
  /** `:name` segments of the matched route. */
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (undefined when empty or not JSON). */
  json: unknown;
  /** Set when the client closed the connection before the answer was complete. */
  disconnected: boolean;
}

/**
 * What a route answers: JSON (status 200 unless given), an API error, or an NDJSON stream of
 * `lines` (written `intervalMs` apart; with `hold`, the stream then stays open until the client
 * disconnects, for abort tests).
 */
export type FakeReply =
  | { status?: number; json: unknown }
  | { status?: number; text: string; contentType?: string }
  | { error: ApiError; status: number }
  | { ndjson: readonly unknown[]; intervalMs?: number; hold?: boolean };

export type FakeRoute = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeDaemonOptions {
  /** Request bodies over this many bytes are answered 413 (default 1 MiB, as the daemon). */
  maxBodyBytes?: number;
}

export class FakeDaemon {
  readonly socketPath: string;
  readonly requests: RecordedRequest[] = [];
  readonly #dir: string;
  readonly #server: Server;
  readonly #routes: { method: string; pattern: string; route: FakeRoute }[] = [];
  readonly #maxBody: number;

  private constructor(dir: string, options: FakeDaemonOptions) {
    this.#dir = dir;
    this.socketPath = path.join(dir, 'convoy.sock');
    this.#maxBody = options.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  /** Starts a fake daemon listening on `<new temp dir>/convoy.sock`. */
  static async start(options: FakeDaemonOptions = {}): Promise<FakeDaemon> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-fake-daemon-'));
    const daemon = new FakeDaemon(dir, options);
    await new Promise<void>((resolve, reject) => {
      daemon.#server.once('error', reject);
      daemon.#server.listen(daemon.socketPath, () => resolve());
    });
    return daemon;
  }

  /** Answers `METHOD /path/:param` with `route` (later routes win); unrouted requests get 404. */
  on(method: string, pattern: string, route: FakeRoute | FakeReply): this {
    this.#routes.unshift({ method, pattern, route: typeof route === 'function' ? route : () => route });
    return this;
  }

  /** Forgets routes and recorded requests. */
  reset(): void {
    this.#routes.length = 0;
    this.requests.length = 0;
  }

  /** The last request, or a failure naming what was recorded. */
  last(): RecordedRequest {
    const r = this.requests.at(-1);
    if (r === undefined) throw new Error('the fake daemon received no request');
    return r;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await fs.rm(this.#dir, { recursive: true, force: true });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= this.#maxBody) chunks.push(chunk as Buffer); // past the limit: drain, then refuse
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '/',
      pathname: url.pathname,
      query: url.searchParams,
      params: {},
      headers: req.headers,
      body,
      json: parseOrUndefined(body),
      disconnected: false,
    };
    this.requests.push(recorded);
    res.on('close', () => {
      if (!res.writableFinished) recorded.disconnected = true;
    });
    if (size > this.#maxBody) {
      sendJson(res, 413, {
        error: { code: 'CONVOY_REQUEST_TOO_LARGE', message: `request body over ${this.#maxBody} bytes`, hint: 'send less' },
      });
      return;
    }
    const match = this.#match(recorded.method, recorded.pathname);
    if (match === undefined) {
      sendJson(res, 404, { error: { code: 'CONVOY_UNKNOWN_ROUTE', message: `no route ${recorded.method} ${recorded.pathname}` } });
      return;
    }
    recorded.params = match.params;
    let reply: FakeReply;
    try {
      reply = await match.route(recorded);
    } catch (err) {
      sendJson(res, 500, { error: { code: 'CONVOY_INTERNAL', message: (err as Error).message } });
      return;
    }
    await answer(res, reply);
  }

  #match(method: string, pathname: string): { route: FakeRoute; params: Record<string, string> } | undefined {
    const parts = pathname.split('/');
    for (const r of this.#routes) {
      if (r.method !== method) continue;
      const want = r.pattern.split('/');
      if (want.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const ok = want.every((w, i) => {
        const got = parts[i] ?? '';
        if (w.startsWith(':')) {
          params[w.slice(1)] = decodeURIComponent(got);
          return true;
        }
        return w === got;
      });
      if (ok) return { route: r.route, params };
    }
    return undefined;
  }
}

function parseOrUndefined(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function answer(res: ServerResponse, reply: FakeReply): Promise<void> {
  if ('json' in reply) return sendJson(res, reply.status ?? 200, reply.json);
  if ('error' in reply) return sendJson(res, reply.status, { error: reply.error });
  if ('text' in reply) {
    res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'text/plain' });
    res.end(reply.text);
    return;
  }
  res.writeHead(200, { 'content-type': NDJSON });
  for (const line of reply.ndjson) {
    if (res.destroyed) return;
    res.write(`${JSON.stringify(line)}\n`);
    if (reply.intervalMs !== undefined) await sleep(reply.intervalMs);
  }
  if (reply.hold === true) {
    await new Promise<void>((resolve) => res.once('close', resolve));
    return;
  }
  res.end();
}
