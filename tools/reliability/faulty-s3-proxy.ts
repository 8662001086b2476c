// An HTTP proxy in front of radosgw that injects faults on a seeded schedule, for the faulty-S3
// campaign (s3-faults.ts). Requests are forwarded unchanged, as HoldingProxy does (SigV4 signs the
// Host header the client sent, which radosgw checks as received). While armed, each request draws
// from the trial's generator: with probability `rate` it gets one fault of a kind that fits its
// method; otherwise it is forwarded untouched. Disarmed, it forwards everything (set-up and checks
// go straight to radosgw anyway). Every injected fault is logged with its kind, method and key.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Rng } from './prng.js';

/**
 * - `http-503` / `http-500`: an S3 error answer (SlowDown / InternalError); nothing forwarded.
 * - `reset-mid-request`: the connection is cut while the request body arrives; nothing forwarded.
 * - `reset-after-request`: the whole request arrived, then the connection is cut; nothing forwarded.
 * - `reset-before-response`: forwarded (it happened), then cut before any answer (GET, HEAD, LIST).
 * - `lost-ack`: a write (PUT, POST, DELETE) forwarded and done, then cut before the client sees the answer.
 * - `reset-after-response`: the whole answer sent, then the connection cut (a pooled socket that dies).
 * - `truncate`: the answer's headers and half its body, then the connection cut (bodies only).
 * - `slow`: the answer held back for `slowMs` (100 ms to 2.5 s), then sent whole.
 * - `lie`: a PUT answered 200 with the ETag it would have had, and never stored (a lying server).
 * - `stall`: the request arrives and is never answered (the connection stays open).
 * - `stall-body`: the answer's headers and half its body, then nothing more (GET only).
 */
export const S3_FAULTS = [
  'http-503',
  'http-500',
  'reset-mid-request',
  'reset-after-request',
  'reset-before-response',
  'lost-ack',
  'reset-after-response',
  'truncate',
  'slow',
  'lie',
  'stall',
  'stall-body',
] as const;
export type S3Fault = (typeof S3_FAULTS)[number];

/** Faults an honest (if unreliable) server shows, each costing at most a few seconds: every kind but `lie` and the stalls. */
export const HONEST_FAULTS: readonly S3Fault[] = S3_FAULTS.filter((f) => f !== 'lie' && !f.startsWith('stall'));

export interface SeenRequest {
  n: number;
  method: string;
  /** Path-style: /bucket/key (decoded), without the query. */
  path: string;
  query: string;
}

export interface InjectedFault {
  kind: S3Fault;
  method: string;
  /** The object key within the store (bucket and store prefix stripped), or the request path. */
  key: string;
  slowMs?: number;
}

/** What a trial arms the proxy with. */
export interface FaultPlan {
  rng: Rng;
  /** Chance that a request gets a fault. */
  rate: number;
  kinds: readonly S3Fault[];
  /** Only requests this matches may get a fault (default: all). */
  eligible?: (req: SeenRequest) => boolean;
  /** At most this many faults (default: unlimited). */
  max?: number;
}

const WRITES = new Set(['PUT', 'POST', 'DELETE']);

/** The kinds that fit a request: `truncate` needs a body to cut, `lie` a PUT, `lost-ack` a write. */
function fits(kind: S3Fault, req: SeenRequest, hasBody: boolean): boolean {
  switch (kind) {
    case 'lie':
      return req.method === 'PUT';
    case 'lost-ack':
      return WRITES.has(req.method);
    case 'reset-before-response':
      return !WRITES.has(req.method);
    case 'reset-mid-request':
      return hasBody;
    case 'truncate':
    case 'stall-body':
      return req.method === 'GET';
    default:
      return true;
  }
}

const S3_ERROR = (code: string, message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>injected</RequestId></Error>`;

export class FaultyS3Proxy {
  readonly url: string;
  /** Faults injected since the last `arm`. */
  readonly injected: InjectedFault[] = [];
  /** Requests seen since the last `arm`. */
  requests = 0;
  readonly #server: http.Server;
  #plan: FaultPlan | undefined;
  #keyOf: (path: string) => string = (p) => p;

  private constructor(server: http.Server) {
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(target: string): Promise<FaultyS3Proxy> {
    const to = new URL(target);
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new FaultyS3Proxy(server);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => proxy.handle(to, req, res));
    return proxy;
  }

  /** Faults from now on, by `plan`; `keyOf` turns a request path into the key the log shows. */
  arm(plan: FaultPlan, keyOf?: (path: string) => string): void {
    this.#plan = plan;
    this.#keyOf = keyOf ?? ((p) => p);
    this.injected.length = 0;
    this.requests = 0;
  }

  disarm(): void {
    this.#plan = undefined;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Which fault (if any) this request gets. */
  #draw(req: SeenRequest, hasBody: boolean): InjectedFault | undefined {
    const plan = this.#plan;
    if (plan === undefined) return undefined;
    if (plan.max !== undefined && this.injected.length >= plan.max) return undefined;
    if (plan.eligible !== undefined && !plan.eligible(req)) return undefined;
    if (!plan.rng.chance(plan.rate)) return undefined;
    const kinds = plan.kinds.filter((k) => fits(k, req, hasBody));
    if (kinds.length === 0) return undefined;
    const kind = plan.rng.pick(kinds);
    const fault: InjectedFault = { kind, method: req.method, key: this.#describe(req) };
    if (kind === 'slow') fault.slowMs = plan.rng.int(100, 2500);
    this.injected.push(fault);
    return fault;
  }

  /** The key a request is about; for bucket-level requests, what they do (`list <prefix>`, `delete (batch)`). */
  #describe(req: SeenRequest): string {
    if (req.path.split('/').filter((p) => p !== '').length > 1) return this.#keyOf(req.path);
    const q = new URLSearchParams(req.query);
    if (q.has('delete')) return 'delete (batch)';
    if (q.has('uploads')) return 'list multipart uploads';
    const prefix = q.get('prefix');
    if (prefix !== null) return `list ${this.#keyOf(`/${req.path.split('/')[1] ?? ''}/${prefix}`)}`;
    return req.method === 'HEAD' ? 'bucket' : `bucket ${req.query}`.trim();
  }

  handle(to: URL, req: http.IncomingMessage, res: http.ServerResponse): void {
    const [rawPath = '/', query = ''] = (req.url ?? '/').split('?');
    let path = rawPath;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      // keep it raw: only the log shows it
    }
    if (this.#plan !== undefined) this.requests++;
    const seen: SeenRequest = { n: this.requests, method: req.method ?? 'GET', path, query };
    const declared = Number(req.headers['content-length'] ?? 0);
    const fault = this.#draw(seen, declared > 0);
    const socket = req.socket as Socket;
    const body: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      body.push(chunk);
      received += chunk.length;
      if (fault?.kind === 'reset-mid-request' && received > 0) socket.destroy();
    });
    req.on('error', () => socket.destroy());
    req.on('end', () => {
      if (fault?.kind === 'reset-mid-request' || fault?.kind === 'reset-after-request') return void socket.destroy();
      if (fault?.kind === 'stall') return; // until the client gives up (or the proxy closes)
      if (fault?.kind === 'http-503' || fault?.kind === 'http-500') {
        const xml =
          fault.kind === 'http-503'
            ? S3_ERROR('SlowDown', 'Please reduce your request rate.')
            : S3_ERROR('InternalError', 'We encountered an internal error. Please try again.');
        res.writeHead(fault.kind === 'http-503' ? 503 : 500, {
          'content-type': 'application/xml',
          'content-length': seen.method === 'HEAD' ? 0 : Buffer.byteLength(xml),
        });
        return void res.end(seen.method === 'HEAD' ? undefined : xml);
      }
      if (fault?.kind === 'lie') {
        const md5 = req.headers['content-md5'];
        const etag = typeof md5 === 'string' ? `"${Buffer.from(md5, 'base64').toString('hex')}"` : '"00000000000000000000000000000000"';
        res.writeHead(200, { etag, 'content-length': 0, 'x-amz-request-id': 'injected' });
        return void res.end();
      }
      const out = http.request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (upstream) => {
          const chunks: Buffer[] = [];
          upstream.on('data', (c: Buffer) => chunks.push(c));
          upstream.on('error', () => socket.destroy());
          upstream.on('end', () => this.#answer(fault, res, socket, upstream, Buffer.concat(chunks)));
        },
      );
      out.on('error', () => socket.destroy());
      out.end(Buffer.concat(body));
    });
  }

  #answer(fault: InjectedFault | undefined, res: http.ServerResponse, socket: Socket, upstream: http.IncomingMessage, data: Buffer): void {
    if (fault?.kind === 'reset-before-response' || fault?.kind === 'lost-ack') return void socket.destroy();
    const send = (): void => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      if ((fault?.kind === 'truncate' || fault?.kind === 'stall-body') && data.length > 1) {
        res.write(data.subarray(0, data.length >> 1), () => fault.kind === 'truncate' && socket.destroy());
        return;
      }
      res.end(data, () => {
        if (fault?.kind === 'reset-after-response') socket.destroy();
      });
    };
    if (fault?.kind === 'slow') setTimeout(send, fault.slowMs ?? 0);
    else send();
  }
}
