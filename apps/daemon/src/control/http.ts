// The HTTP plumbing of the control socket: request targets, JSON bodies parsed by the control
// API's zod schemas, answers, errors as {error: {code, message, hint}} with the registry's status,
// and long work streamed as NDJSON progress.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConvoyError, httpStatusOf, isConvoyError, redactUrl } from '@convoy/errors';
import type { Progress } from '@convoy/blockstore';
import { MAX_REQUEST_BODY_BYTES, NDJSON, type ApiError, type ProgressEvent } from '@convoy/control-api';
import type { z } from 'zod';

const BODY_HINT = 'send a JSON object with the fields of docs/control-api.md';

/** A request the daemon cannot serve as sent (CONVOY_INVALID_ARGUMENT, 400). */
export const badRequest = (message: string, hint?: string): ConvoyError => new ConvoyError('CONVOY_INVALID_ARGUMENT', message, { hint });

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;
/** Messages can quote URLs a client sent (store URLs with credentials in them): each goes through redactUrl. */
const withoutCredentials = (text: string): string => text.replace(URL_IN_TEXT, (u) => redactUrl(u));

/** Any error as the API answers it (and the daemon logs it): the registry's HTTP status, and code, message and hint, URLs without credentials. */
export function toApiError(err: unknown): { status: number; body: ApiError } {
  if (isConvoyError(err)) {
    return {
      status: httpStatusOf(err.code),
      body: {
        code: err.code,
        message: withoutCredentials(err.message),
        ...(err.hint === undefined ? {} : { hint: withoutCredentials(err.hint) }),
      },
    };
  }
  const message = withoutCredentials(err instanceof Error ? err.message : String(err));
  return { status: 500, body: { code: 'CONVOY_INTERNAL', message, hint: 'see the daemon log (journalctl -u convoy)' } };
}

/** Past MAX_REQUEST_BODY_BYTES a body is still read and discarded up to this, so the 413 answer reaches the client. */
export const DISCARD_BODY_BYTES = 16 * MAX_REQUEST_BODY_BYTES;

const tooLarge = (): ConvoyError =>
  new ConvoyError('CONVOY_REQUEST_TOO_LARGE', `request body over ${MAX_REQUEST_BODY_BYTES} bytes`, {
    hint: 'control API requests are small JSON objects (docs/control-api.md): use fewer or shorter options and labels',
  });

/** Bodies read by readWholeBody, before the request was routed. */
const bodies = new WeakMap<IncomingMessage, Buffer>();

/**
 * Reads the whole request body before anything is answered: a server that answers (a 404, a
 * 400) and closes while the client is still sending makes the client's write fail, and the
 * answer is lost with it. An oversized body is read and discarded up to DISCARD_BODY_BYTES, then
 * answered 413; past that the 413 is sent at once and the connection closed after it.
 */
export async function readWholeBody(req: IncomingMessage): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size <= MAX_REQUEST_BODY_BYTES) chunks.push(c as Buffer);
    else if (size > DISCARD_BODY_BYTES) throw Object.assign(tooLarge(), { closeConnection: true });
  }
  if (size > MAX_REQUEST_BODY_BYTES) throw tooLarge();
  bodies.set(req, Buffer.concat(chunks));
}

/** The body as JSON (empty is `{}`): over MAX_REQUEST_BODY_BYTES is a 413, bad JSON a 400. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!bodies.has(req)) await readWholeBody(req);
  const raw = bodies.get(req) ?? Buffer.alloc(0);
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw badRequest('request body is not valid JSON', BODY_HINT);
  }
}

/** The body, parsed by its route's schema: a field missing, of the wrong type or unknown is a 400 naming it. */
export async function readBody<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const body = await readJson(req);
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join('.') ?? '';
  if (issue === undefined) throw badRequest('request body is not valid', BODY_HINT);
  if (issue.code === 'unrecognized_keys')
    throw badRequest(
      `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
      `${BODY_HINT} (nothing else)`,
    );
  if (field === '') throw badRequest('request body must be a JSON object', BODY_HINT);
  if (issue.code === 'invalid_type' && valueAt(body, issue.path) === undefined) throw badRequest(`"${field}" is required`, BODY_HINT);
  throw badRequest(`"${field}": ${issue.message}`, BODY_HINT);
}

/** The value at `path` in a parsed JSON body (undefined where the path leads nowhere). */
function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = body;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

export function send(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
}

/**
 * Runs long work for a request: plain JSON, or — when the client accepts NDJSON — progress lines
 * (at most 5 a second, and the last) then a result line. A client that goes away aborts the work.
 */
export async function longWork<T>(
  req: IncomingMessage,
  res: ServerResponse,
  work: (signal: AbortSignal, onProgress: (p: Progress) => void) => Promise<T>,
): Promise<void> {
  const ac = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ac.abort(new Error('client disconnected'));
  });
  const streaming = (req.headers.accept ?? '').includes(NDJSON);
  if (!streaming) {
    send(res, 200, await work(ac.signal, () => undefined));
    return;
  }
  res.writeHead(200, { 'content-type': NDJSON });
  let last = 0;
  try {
    const result = await work(ac.signal, (p) => {
      const now = Date.now();
      if (now - last < 200 && p.blocksDone !== p.blocksTotal) return;
      last = now;
      const ev: ProgressEvent = { type: 'progress', ...p };
      res.write(`${JSON.stringify(ev)}\n`);
    });
    res.end(`${JSON.stringify({ type: 'result', result })}\n`);
  } catch (err) {
    res.end(`${JSON.stringify({ type: 'error', error: toApiError(err).body })}\n`);
  }
}

/** The answer to a request node:http could not parse, or a CONNECT (answerClientErrors): a 400, 405, 408 or 431 with a CONVOY_* code. */
export function clientErrorBody(status: number, message: string): { error: ApiError } {
  const code = status === 431 ? 'CONVOY_REQUEST_TOO_LARGE' : status === 408 ? 'CONVOY_REQUEST_TIMEOUT' : 'CONVOY_INVALID_REQUEST';
  return {
    error: {
      code,
      message,
      hint: 'the control socket speaks HTTP/1.1: /v1/… paths with names percent-encoded (encodeURIComponent), JSON bodies; see docs/control-api.md',
    },
  };
}

const invalidTarget = (message: string): ConvoyError =>
  new ConvoyError('CONVOY_INVALID_REQUEST', message, {
    hint: 'request paths are /v1/… with names percent-encoded (encodeURIComponent); see docs/control-api.md',
  });

/** The request target as a URL and its decoded path segments; anything malformed is a 400 answer. */
export function parseTarget(target: string): { url: URL; parts: string[] } {
  if (!target.startsWith('/')) throw invalidTarget(`request target ${JSON.stringify(target.slice(0, 200))} is not a path`);
  let url: URL;
  try {
    // Prefixed, not resolved against a base: "//x" would otherwise be read as a host.
    url = new URL(`http://convoy${target}`);
  } catch {
    throw invalidTarget(`request target ${JSON.stringify(target.slice(0, 200))} is not a valid URL path`);
  }
  const parts: string[] = [];
  for (const p of url.pathname.split('/')) {
    if (p === '') continue;
    try {
      parts.push(decodeURIComponent(p));
    } catch {
      throw invalidTarget(`request path segment ${JSON.stringify(p.slice(0, 200))} is not valid percent-encoding`);
    }
  }
  return { url, parts };
}
