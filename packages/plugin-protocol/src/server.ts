// The plugin socket: node:http on a unix socket, serving a PluginHandler. Docker keeps its plugin
// connections open and reuses them, so every error (oversized or malformed body, unknown endpoint)
// is an answer on a connection that stays usable, and close() drains what is in flight.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { answerClientErrors, listenUnixHttp } from '@convoy/daemon-kit';
import { InvalidRequestError, RequestTooLargeError } from './errors.js';
import { errMessage } from './err-message.js';
import type { PluginHandler, PluginResponse } from './handler.js';
import { PLUGIN_MEDIA_TYPE } from './types.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface PluginSocketOptions {
  socketPath: string;
  /** Permissions of the socket, set before it accepts anything. Default 0o660. */
  mode?: number;
  /** Group owner of the socket (for example docker's gid); default: the process's group. */
  gid?: number;
  /** Largest request body; larger ones are answered with an error. Default 1 MiB. */
  bodyLimit?: number;
  /**
   * An oversized body is read and discarded up to this many bytes, so the connection can carry the
   * next request; past it (or when Content-Length says so) the connection is closed after the
   * answer. Default 16 × bodyLimit.
   */
  discardLimit?: number;
  /** Idle keep-alive connections are closed after this long. Default 60 s. */
  keepAliveTimeoutMs?: number;
  /** close() waits this long for in-flight requests before cutting connections. Default 30 s. */
  drainTimeoutMs?: number;
}

export interface PluginServer {
  readonly socketPath: string;
  readonly httpServer: Server;
  /** Requests being served right now. */
  readonly inFlight: number;
  /**
   * Stops accepting, unlinks the socket if it is still ours, lets in-flight requests finish (idle
   * keep-alive connections close at once), and resolves when every connection is closed.
   * Safe to call more than once (e.g. from a SIGTERM handler).
   */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The plugin protocol as a node:http request listener, for a server that also serves other routes. */
export interface PluginListener {
  /** Serves one request: POST /Plugin.Activate or /VolumeDriver.<call>. Never throws. */
  (req: IncomingMessage, res: ServerResponse): void;
  /** Requests being served right now. */
  readonly inFlight: number;
  /** From now on answers carry `Connection: close` (the server is closing). */
  drain(): void;
}

export type PluginListenerOptions = Pick<PluginSocketOptions, 'bodyLimit' | 'discardLimit'>;

/**
 * True for a call of Docker's plugin protocol: POST to an endpoint (/Plugin.Activate,
 * /VolumeDriver.<Call>, nothing after it), which a shared socket hands to a PluginListener. Anything
 * else stays with the socket's own API (and its error format), even if it starts like one.
 */
export const isPluginCall = (method: string | undefined, url: string | undefined): boolean =>
  method === 'POST' && /^\/(?:Plugin\.Activate|VolumeDriver\.[A-Za-z]+)(?:\?.*)?$/.test(url ?? '');

/** The client-error answer of a plugin socket (what answerClientErrors sends for a request HTTP cannot parse). */
export const pluginClientErrorBody = (_status: number, message: string): { Err: string } => ({
  Err: errMessage(
    new InvalidRequestError(message, { hint: 'plugin calls are POST /VolumeDriver.<call> (or /Plugin.Activate) with a JSON body' }),
  ),
});

export function pluginListener(handler: PluginHandler, options: PluginListenerOptions = {}): PluginListener {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const discardLimit = Math.max(options.discardLimit ?? bodyLimit * 16, bodyLimit);
  let draining = false;
  let inFlight = 0;

  const send = (res: ServerResponse, reply: PluginResponse, closeAfter = false): void => {
    if (res.headersSent || res.destroyed) return;
    const json = `${JSON.stringify(reply.body)}\n`;
    res.statusCode = reply.status;
    res.setHeader('Content-Type', PLUGIN_MEDIA_TYPE);
    res.setHeader('Content-Length', Buffer.byteLength(json));
    if (closeAfter || draining) res.setHeader('Connection', 'close');
    res.end(json);
  };

  // A failure while answering (a handler that throws, a reply JSON cannot encode) is still an
  // answer; only when even that cannot be sent is the connection cut. Never an uncaught error.
  const fail = (res: ServerResponse, error: unknown): void => {
    try {
      send(res, { status: 500, body: { Err: errMessage(error) } });
    } catch {
      res.destroy();
    }
  };

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'POST') {
      req.resume();
      send(res, { status: 405, body: { Err: `method ${req.method ?? '?'} not allowed: plugin calls are POST` } });
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > discardLimit) {
      // Not worth reading: answer now; `Connection: close` ends the connection after the answer.
      req.resume();
      send(res, { status: 413, body: { Err: errMessage(new RequestTooLargeError(bodyLimit)) } }, true);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= bodyLimit) chunks.push(chunk);
      else if (size > discardLimit) {
        send(res, { status: 413, body: { Err: errMessage(new RequestTooLargeError(bodyLimit)) } }, true);
      } else chunks.length = 0;
    });
    req.once('error', () => res.destroy());
    req.once('end', () => {
      if (size > bodyLimit) {
        send(res, { status: 413, body: { Err: errMessage(new RequestTooLargeError(bodyLimit)) } });
        return;
      }
      Promise.resolve()
        .then(() => handler(req.url ?? '/', Buffer.concat(chunks)))
        .then((reply) => send(res, reply))
        .catch((error: unknown) => fail(res, error));
    });
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
    });
    try {
      serve(req, res);
    } catch (error) {
      fail(res, error);
    }
  };
  // defineProperty, not Object.assign: assign would copy the getter's value once.
  return Object.defineProperties(listener, {
    inFlight: { get: () => inFlight },
    drain: {
      value: () => {
        draining = true;
      },
    },
  }) as PluginListener;
}

export async function listenPluginSocket(handler: PluginHandler, options: PluginSocketOptions): Promise<PluginServer> {
  const socketPath = resolve(options.socketPath);
  const listener = pluginListener(handler, options);
  const httpServer = createServer(listener);
  httpServer.keepAliveTimeout = options.keepAliveTimeoutMs ?? 60_000;
  httpServer.requestTimeout = 5 * 60_000;
  answerClientErrors(httpServer, pluginClientErrorBody, PLUGIN_MEDIA_TYPE);
  const unix = await listenUnixHttp(httpServer, {
    socketPath,
    mode: options.mode ?? 0o660,
    gid: options.gid,
    drainTimeoutMs: options.drainTimeoutMs ?? 30_000,
    onDrain: listener.drain,
  });
  const close = unix.close;

  return {
    socketPath,
    httpServer,
    get inFlight() {
      return listener.inFlight;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
