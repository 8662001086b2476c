// Raw HTTP/1.1 over a unix socket on ONE kept-alive connection at a time (as Docker and the CLI
// use the daemon's sockets), for requests no well-behaved client sends: malformed or oversized
// bodies, odd paths. Each reply says whether it came over a reused connection.
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface UnixReply {
  /** HTTP status, or 0 when the connection failed before an answer (`error` says how). */
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined if it is not JSON). */
  json: unknown;
  /** True when the request went over a connection an earlier request had used. */
  reused: boolean;
  error?: string;
}

export class UnixHttp {
  readonly socketPath: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly #headers: Record<string, string>;

  /** `headers` go on every request (e.g. Docker's Accept for the plugin socket). */
  constructor(socketPath: string, headers: Record<string, string> = {}) {
    this.socketPath = socketPath;
    this.#headers = headers;
  }

  request(method: string, path: string, body?: string | Buffer, timeoutMs = 30_000): Promise<UnixReply> {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    return new Promise((resolve) => {
      const req = request(
        {
          socketPath: this.socketPath,
          agent: this.#agent,
          method,
          path,
          headers: { Host: 'localhost', ...this.#headers, ...(payload === undefined ? {} : { 'Content-Length': String(payload.length) }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('error', (err) =>
            resolve({ status: 0, headers: {}, text: '', json: undefined, reused: req.reusedSocket, error: err.message }),
          );
          res.once('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text) as unknown;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, reused: req.reusedSocket });
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} got no answer within ${timeoutMs} ms`)));
      req.once('error', (err) =>
        resolve({
          status: 0,
          headers: {},
          text: '',
          json: undefined,
          reused: req.reusedSocket,
          error: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`,
        }),
      );
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
