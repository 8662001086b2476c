// HTTP/1.1 + JSON over a unix socket, with no library of ours: the daemon's control API
// (docs/control-api.md) and the Docker plugin protocol, as the CLI and Docker speak them. A
// request whose daemon dies answers status 0 with the transport error (never throws), so a kill
// mid-request is an outcome the campaign records, not an exception.
import { Agent, request } from 'node:http';

export interface Reply {
  /** HTTP status, or 0 when no answer came (the daemon died, or the deadline passed). */
  status: number;
  json: unknown;
  text: string;
  /** Transport failure (status 0), or undefined. */
  error?: string;
  /** `error.code` of a control API error body, or Docker's `Err` text. */
  code?: string;
  message?: string;
  ms: number;
}

export class UnixHttp {
  readonly socketPath: string;
  readonly #headers: Record<string, string>;
  #agent = new Agent({ keepAlive: true });

  constructor(socketPath: string, headers: Record<string, string> = {}) {
    this.socketPath = socketPath;
    this.#headers = headers;
  }

  /** Drops kept-alive connections (to a daemon that was killed). */
  reset(): void {
    this.#agent.destroy();
    this.#agent = new Agent({ keepAlive: true });
  }

  call(method: string, target: string, body?: unknown, timeoutMs = 120_000): Promise<Reply> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const started = performance.now();
    return new Promise((resolve) => {
      const done = (r: Omit<Reply, 'ms'>): void => resolve({ ...r, ms: performance.now() - started });
      const req = request(
        {
          socketPath: this.socketPath,
          agent: this.#agent,
          method,
          path: target,
          headers: {
            Host: 'localhost',
            ...this.#headers,
            ...(payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('error', (err) => done({ status: 0, json: undefined, text: '', error: err.message }));
          res.once('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text) as unknown;
            } catch {
              json = undefined;
            }
            const err = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
            const dockerErr = (json as { Err?: unknown } | undefined)?.Err;
            done({
              status: res.statusCode ?? 0,
              json,
              text,
              ...(typeof err?.code === 'string' ? { code: err.code, message: String(err.message) } : {}),
              ...(typeof dockerErr === 'string' && dockerErr !== '' ? { code: 'docker-err', message: dockerErr } : {}),
            });
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.once('error', (err) =>
        done({ status: 0, json: undefined, text: '', error: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.trim() }),
      );
      req.end(payload);
    });
  }
}

/** A reply in one line, for trial records. */
export const describeReply = (what: string, r: Reply): string =>
  `${what} → ${r.status === 0 ? `no answer (${r.error ?? '?'})` : `${r.status}${r.code === undefined ? '' : ` ${r.code}: ${(r.message ?? '').slice(0, 300)}`}`} after ${(r.ms / 1000).toFixed(2)} s`;
