// How the hostile-input campaign judges a daemon's answer to a hostile request: a proper answer is
// a success or an error with a CONVOY_* code, never a hang, a dropped connection or CONVOY_INTERNAL.
import type { RawOutcome } from './hostile-http.js';
import type { HostileRequest } from './hostile-requests.js';

/** What an answer is, for the report: `2xx`, `4xx`, … or `no answer`. */
export function answerClass(o: RawOutcome): string {
  return o.kind === 'answer' ? `${Math.floor(o.status / 100)}xx` : o.kind === 'hang' ? 'no answer (hang)' : 'connection dropped';
}

const CODE = /^CONVOY_[A-Z0-9_]+$/;

/** Why an answer is wrong, or undefined when it is a proper answer (success, or an error with a code). */
export function judge(req: HostileRequest, o: RawOutcome): string | undefined {
  if (o.kind === 'hang') return 'no answer before the deadline';
  if (o.kind === 'dropped') return `connection dropped: ${o.detail}`;
  if (req.method === 'HEAD') return o.status >= 400 && o.status < 500 ? undefined : `HEAD answered ${o.status}`;
  if (req.socket === 'plugin') {
    const body = o.json as { Err?: unknown } | undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return `${o.status} with a body that is not a JSON object: ${o.body.toString('utf8').slice(0, 120)}`;
    if (body.Err === undefined) return o.status === 200 ? undefined : `${o.status} without Err`;
    if (typeof body.Err !== 'string' || body.Err === '') return `Err is not a message: ${JSON.stringify(body.Err)}`;
    if (body.Err.startsWith('internal error')) return `an internal error for bad input: ${body.Err.slice(0, 200)}`;
    return undefined;
  }
  if (o.headers['content-type']?.includes('ndjson') === true) {
    const last = o.body.toString('utf8').trim().split('\n').at(-1) ?? '';
    let line: { type?: string; error?: { code?: unknown } } | undefined;
    try {
      line = JSON.parse(last) as typeof line;
    } catch {
      return `a progress stream that does not end in a JSON line: ${last.slice(0, 120)}`;
    }
    if (line?.type === 'result') return undefined;
    if (line?.type === 'error' && typeof line.error?.code === 'string' && CODE.test(line.error.code)) return internal(line.error.code);
    return `a progress stream that ends in neither a result nor an error with a code: ${last.slice(0, 120)}`;
  }
  if (o.status >= 200 && o.status < 300) return o.json === undefined ? `${o.status} with a body that is not JSON` : undefined;
  const error = (o.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code !== 'string' || !CODE.test(error.code) || typeof error.message !== 'string')
    return `${o.status} without a JSON error with a CONVOY_* code: ${o.body.toString('utf8').slice(0, 160)}`;
  // A 5xx is for what is not the request's fault: a store that cannot be reached (no S3
  // credentials, endpoint down), stored data that is damaged (a URL naming a directory with a
  // garbage convoy.json). Never a usage error, never CONVOY_INTERNAL (a bug).
  if (o.status >= 500 && /INVALID|USAGE/.test(error.code)) return `${o.status} ${error.code} for bad input: ${error.message.slice(0, 200)}`;
  return internal(error.code);
}

const internal = (code: string): string | undefined => (code === 'CONVOY_INTERNAL' ? 'CONVOY_INTERNAL for bad input' : undefined);
