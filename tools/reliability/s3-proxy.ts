// An HTTP proxy in front of radosgw that can hold one request of a convoy-backup process until
// the trial releases it: a pause point exactly between two store requests of one operation, for
// races no timing-based pause hits reliably. Requests are forwarded unchanged (SigV4 signs the
// Host header the client sent, which radosgw checks as received), so the CLI cannot tell.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  /** Path-style: /bucket/key */
  path: string;
}

/** A held request: send it on to radosgw, or drop it (the connection is cut, it never arrives). */
export interface Held {
  request: SeenRequest;
  release(): void;
  drop(): void;
}

interface Hold {
  match: (req: SeenRequest, log: readonly SeenRequest[]) => boolean;
  held: (held: Held) => void;
}

interface State {
  log: SeenRequest[];
  hold: Hold | undefined;
}

export class HoldingProxy {
  readonly url: string;
  readonly #server: http.Server;
  readonly #state: State;

  private constructor(server: http.Server, state: State) {
    this.#server = server;
    this.#state = state;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(target: string): Promise<HoldingProxy> {
    const to = new URL(target);
    const state: State = { log: [], hold: undefined };
    const server = http.createServer((req, res) => {
      const seen: SeenRequest = { method: req.method ?? 'GET', path: decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/') };
      // The whole request is read first: a held request that is then sent on arrives complete,
      // as one the client finished sending just before it died.
      const body: Buffer[] = [];
      req.on('data', (chunk: Buffer) => body.push(chunk));
      req.on('end', () => {
        const forward = (): void => {
          const out = http.request(
            { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
            (upstream) => {
              res.writeHead(upstream.statusCode ?? 502, upstream.headers);
              upstream.pipe(res);
            },
          );
          out.on('error', () => res.destroy());
          out.end(Buffer.concat(body));
        };
        const hold = state.hold;
        const matched = hold !== undefined && hold.match(seen, state.log);
        state.log.push(seen);
        if (!matched) return forward();
        state.hold = undefined;
        hold.held({ request: seen, release: forward, drop: () => res.destroy() });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new HoldingProxy(server, state);
  }

  /** Requests seen so far (every one, held or not). */
  get seen(): number {
    return this.#state.log.length;
  }

  /** Resolves once a request matching `match` arrives; it is held until released or dropped. */
  holdNext(match: Hold['match']): Promise<Held> {
    return new Promise((resolve) => {
      this.#state.hold = { match, held: resolve };
    });
  }

  cancel(): void {
    this.#state.hold = undefined;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
