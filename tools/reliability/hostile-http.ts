// Raw HTTP/1.1 over a unix socket, for requests no well-behaved client sends: any method token,
// any request target (spaces, NUL, invalid percent-encoding, unicode: node:http's client refuses
// those), any headers, bodies of any size. One connection per request; the answer is read with a
// small parser (Content-Length or chunked bodies), so what counts is what came back on the wire:
// a complete answer, a connection closed before one (dropped), or nothing before the deadline (hang).
import net from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target exactly as sent (may be anything but CR/LF). */
  target: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Content-Length to declare; default the body's length (undefined body: none sent). */
  declaredLength?: number;
}

export type RawOutcome =
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: Buffer; json: unknown; followUp?: RawOutcome }
  | { kind: 'dropped'; detail: string }
  | { kind: 'hang' };

const CRLF = Buffer.from('\r\n');

function encode(req: RawRequest, keepAlive = false): Buffer {
  const headers: Record<string, string> = { Host: 'convoy', ...(keepAlive ? {} : { Connection: 'close' }), ...req.headers };
  const length = req.declaredLength ?? req.body?.length;
  if (length !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length'))
    headers['Content-Length'] = String(length);
  const head = [`${req.method} ${req.target} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'utf8'), req.body ?? Buffer.alloc(0)]);
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Bytes of `data` the answer took (what follows belongs to the next answer). */
  consumed: number;
}

/** The answer in `data` once complete, else undefined (more bytes needed). Throws on a malformed answer. */
export function parseAnswer(data: Buffer, head = false): Answer | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1];
  if (status === undefined) throw new Error(`not an HTTP status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  if (status.startsWith('1')) {
    const next = parseAnswer(data.subarray(end + 4), head); // 100 Continue: the answer follows
    return next === undefined ? undefined : { ...next, consumed: next.consumed + end + 4 };
  }
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = data.subarray(end + 4);
  if (head) return { status: Number(status), headers, body: Buffer.alloc(0), consumed: end + 4 };
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = rest.indexOf(CRLF, at);
      if (eol < 0) return undefined;
      const size = Number.parseInt(rest.subarray(at, eol).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error('malformed chunk size');
      if (size === 0)
        return rest.length >= eol + 4
          ? { status: Number(status), headers, body: Buffer.concat(parts), consumed: end + 4 + eol + 4 }
          : undefined;
      if (rest.length < eol + 2 + size + 2) return undefined;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
  const length = headers['content-length'];
  if (length !== undefined)
    return rest.length >= Number(length)
      ? { status: Number(status), headers, body: rest.subarray(0, Number(length)), consumed: end + 4 + Number(length) }
      : undefined;
  return undefined; // no length: the body ends when the connection closes (handled by the caller)
}

/**
 * Sends one request on a new connection and reads the answer. With `followUp`, the connection is
 * kept alive: unless the server said `Connection: close`, the follow-up is sent on the same
 * connection after the answer, and its outcome is the answer's `followUp` (Docker reuses its
 * plugin connections: an error answer must leave the connection usable, or close it cleanly).
 */
export function rawRequest(socketPath: string, req: RawRequest, timeoutMs: number, followUp?: RawRequest): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let data = Buffer.alloc(0);
    let settled = false;
    let first: (RawOutcome & { kind: 'answer' }) | undefined;
    const finish = (outcome: RawOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(first === undefined ? outcome : { ...first, followUp: outcome });
    };
    const answer = (a: { status: number; headers: Record<string, string>; body: Buffer }): RawOutcome & { kind: 'answer' } => {
      let json: unknown;
      try {
        json = JSON.parse(a.body.toString('utf8'));
      } catch {
        json = undefined;
      }
      return { kind: 'answer', status: a.status, headers: a.headers, body: a.body, json };
    };
    const timer = setTimeout(() => finish({ kind: 'hang' }), timeoutMs);
    const current = (): RawRequest => (first === undefined ? req : (followUp ?? req));
    const tryParse = (closed: boolean): void => {
      try {
        const a = parseAnswer(data, current().method === 'HEAD');
        if (a !== undefined) {
          if (first !== undefined || followUp === undefined || a.headers.connection?.toLowerCase() === 'close') {
            finish(answer(a));
            return;
          }
          first = answer(a);
          data = data.subarray(a.consumed);
          socket.write(encode(followUp), () => undefined);
          if (data.length > 0) tryParse(closed);
          else if (closed)
            finish({ kind: 'dropped', detail: 'the kept-alive connection closed after the answer, without Connection: close' });
          return;
        }
        if (closed) {
          let at = 0;
          while (/^HTTP\/1\.[01] 1\d\d/.test(data.subarray(at, at + 12).toString('latin1')) && data.indexOf('\r\n\r\n', at) >= 0)
            at = data.indexOf('\r\n\r\n', at) + 4;
          const end = data.indexOf('\r\n\r\n', at);
          const head = end < 0 ? undefined : data.subarray(at, end).toString('latin1');
          // An answer without length or chunking ends with the connection: complete if it has a head.
          if (head !== undefined && !/content-length|transfer-encoding/i.test(head)) {
            const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
            finish(answer({ status, headers: {}, body: data.subarray(end + 4) }));
          } else
            finish({
              kind: 'dropped',
              detail: data.length === 0 ? 'closed with no answer' : `closed after ${data.length} bytes of an incomplete answer`,
            });
        }
      } catch (err) {
        finish({ kind: 'dropped', detail: `malformed answer: ${(err as Error).message}` });
      }
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('close', () => tryParse(true));
    // A server may answer and close while a large body is still being written (EPIPE, ECONNRESET):
    // what it answered before that still counts.
    socket.on('error', () => tryParse(true));
    socket.on('connect', () => {
      socket.write(encode(req, followUp !== undefined), () => undefined);
    });
  });
}
