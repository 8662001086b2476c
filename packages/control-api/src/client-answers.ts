// Reading the daemon's answers: JSON bodies, capped error bodies, NDJSON progress streams, and a
// listing's problems.
import type { Dispatcher } from 'undici';
import { httpStatusOf } from '@convoy/errors';
import { CLIENT_ERROR, ControlApiError, badResponse, isApiError, quote } from './client-errors.js';
import { ProgressEventSchema, type ApiError, type ProgressEvent } from './types.js';

/** NDJSON lines longer than this are refused (a progress or result line is a few hundred bytes). */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badResponse(`convoy-daemon sent an ${what} that is not JSON: ${quote(text)}`, err);
  }
}

/** A plain JSON answer; an empty one (204, or `{}` left out) counts as `{}`. */
export function parseAnswer(text: string): unknown {
  return text.trim() === '' ? {} : parseJson(text, 'answer');
}

export async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    chunks.push(b);
    size += b.length;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads `{"type":"progress"|"result"|"error",…}` lines until the result or the error. */
export async function readStream(res: Dispatcher.ResponseData, onProgress: ((e: ProgressEvent) => void) | undefined): Promise<unknown> {
  let pending = '';
  const handle = (line: string): { done: true; value: unknown } | undefined => {
    if (line.trim() === '') return undefined;
    const msg = parseJson(line, 'NDJSON line');
    if (!isObject(msg)) throw badResponse(`convoy-daemon sent a stream line that is not an object: ${quote(line)}`);
    if (msg.type === 'progress') {
      const progress = ProgressEventSchema.safeParse(msg);
      if (!progress.success) throw badResponse(`convoy-daemon sent a malformed progress line: ${quote(line)}`);
      onProgress?.(progress.data);
    } else if (msg.type === 'result') return { done: true, value: msg.result };
    else if (msg.type === 'error') {
      if (!isApiError(msg.error)) throw badResponse(`convoy-daemon sent a malformed error line: ${quote(line)}`);
      throw new ControlApiError(msg.error, { status: httpStatusOf(msg.error.code) });
    }
    return undefined; // unknown types are for newer clients
  };
  res.body.setEncoding('utf8');
  for await (const chunk of res.body) {
    pending += chunk as string;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const end = handle(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      if (end !== undefined) return end.value;
    }
    if (pending.length > MAX_LINE_BYTES) throw badResponse(`convoy-daemon sent a stream line over ${MAX_LINE_BYTES} bytes`);
  }
  const end = handle(pending);
  if (end !== undefined) return end.value;
  throw new ControlApiError({
    code: CLIENT_ERROR.connectionLost,
    message: 'convoy-daemon ended the progress stream without a result',
    hint: 'the daemon may have stopped or restarted (journalctl -u convoy); check whether the operation completed',
  });
}

/** A listing's `problems`, each as an ApiError (anything malformed in it is still reported, not dropped). */
export function reportProblems(problems: unknown, onProblem: ((problem: ApiError) => void) | undefined): void {
  if (onProblem === undefined || !Array.isArray(problems)) return;
  for (const p of problems) {
    const o = isObject(p) ? p : {};
    onProblem({
      code: typeof o.code === 'string' ? o.code : CLIENT_ERROR.badResponse,
      message:
        typeof o.message === 'string' ? o.message : `convoy-daemon reported an unreadable record: ${JSON.stringify(p).slice(0, 200)}`,
      ...(typeof o.hint === 'string' ? { hint: o.hint } : {}),
    });
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
