// A VolumeDriver client that talks as Docker does: POST, `Accept:
// application/vnd.docker.plugins.v1.2+json`, no Content-Type, an empty body for Activate, JSON plus
// a newline (Go's json.Encoder) for the rest, and kept-alive connections. For tests and diagnostics.
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { InvalidResponseError } from './errors.js';
import {
  PLUGIN_MEDIA_TYPE,
  type ActivateResponse,
  type CapabilitiesResponse,
  type EmptyResponse,
  type ErrResponse,
  type GetResponse,
  type ListResponse,
  type MountResponse,
  type PathResponse,
  type VolumeOptions,
} from './types.js';

export interface PluginClientOptions {
  /** Per-request timeout; the request fails with an error after it. Default 60 s. */
  timeoutMs?: number;
}

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  /** The parsed JSON answer. */
  body: unknown;
}

type Reply<T> = T | ErrResponse;

export class PluginClient {
  readonly socketPath: string;
  readonly #agent = new Agent({ keepAlive: true });
  readonly #timeoutMs: number;

  constructor(socketPath: string, options: PluginClientOptions = {}) {
    this.socketPath = socketPath;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  activate(): Promise<Reply<ActivateResponse>> {
    return this.#call('/Plugin.Activate', undefined);
  }
  capabilities(): Promise<Reply<CapabilitiesResponse>> {
    return this.#call('/VolumeDriver.Capabilities', {});
  }
  /** `opts` undefined sends `"Opts": null`, as the docker 28 CLI does without `-o`. */
  create(name: string, opts?: VolumeOptions | null): Promise<Reply<EmptyResponse>> {
    return this.#call('/VolumeDriver.Create', { Name: name, Opts: opts ?? null });
  }
  remove(name: string): Promise<Reply<EmptyResponse>> {
    return this.#call('/VolumeDriver.Remove', { Name: name });
  }
  mount(name: string, id: string): Promise<Reply<MountResponse>> {
    return this.#call('/VolumeDriver.Mount', { Name: name, ID: id });
  }
  unmount(name: string, id: string): Promise<Reply<EmptyResponse>> {
    return this.#call('/VolumeDriver.Unmount', { Name: name, ID: id });
  }
  path(name: string): Promise<Reply<PathResponse>> {
    return this.#call('/VolumeDriver.Path', { Name: name });
  }
  get(name: string): Promise<Reply<GetResponse>> {
    return this.#call('/VolumeDriver.Get', { Name: name });
  }
  list(): Promise<Reply<ListResponse>> {
    return this.#call('/VolumeDriver.List', {});
  }

  /**
   * Sends any bytes to any path and returns status, headers and parsed body: for malformed,
   * oversized or unknown requests. `body` undefined sends an empty body.
   */
  raw(path: string, body?: Uint8Array | string, headers: Record<string, string> = {}): Promise<RawReply> {
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    return new Promise<RawReply>((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          agent: this.#agent,
          method: 'POST',
          path,
          headers: {
            Host: 'plugin',
            'User-Agent': 'Go-http-client/1.1',
            Accept: PLUGIN_MEDIA_TYPE,
            'Accept-Encoding': 'gzip',
            'Content-Length': String(payload.length),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.once('error', reject);
          res.once('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as unknown });
            } catch {
              reject(
                new InvalidResponseError(
                  `${path} answered ${res.statusCode ?? '?'} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`,
                ),
              );
            }
          });
        },
      );
      req.setTimeout(this.#timeoutMs, () => req.destroy(new Error(`${path} did not answer within ${this.#timeoutMs} ms`)));
      req.once('error', reject);
      req.end(payload);
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #call<T>(path: string, body: object | undefined): Promise<T> {
    const reply = await this.raw(path, body === undefined ? undefined : `${JSON.stringify(body)}\n`);
    if (typeof reply.body !== 'object' || reply.body === null || Array.isArray(reply.body)) {
      throw new InvalidResponseError(`${path} answered ${JSON.stringify(reply.body)}, not a JSON object`);
    }
    return reply.body as T;
  }
}
