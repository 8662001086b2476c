import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConvoyError, httpStatusOf, isConvoyError, redactUrl } from '@convoy/errors';
import { formatBackupUrl, type Manifest, type Progress } from '@convoy/blockstore';
import {
  NDJSON,
  type ApiError,
  type BackupSummary,
  type CreateBackupRequest,
  type CreateSnapshotRequest,
  type CreateVolumeRequest,
  type MountRequest,
  type ProgressEvent,
} from '@convoy/control-api';
import type { VolumeManager } from '@convoy/volumes';
import { problemLog, type Logger } from './logger.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface ControlContext {
  manager: VolumeManager;
  log: Logger;
  info: () => Promise<Record<string, unknown>>;
  /** Told the store of every backup created or deleted through the API (scheduled maintenance keeps it tidy). */
  usedStore?: (storeUrl: string) => void;
}

const bad = (message: string, hint?: string): ConvoyError => new ConvoyError('CONVOY_INVALID_ARGUMENT', message, hint === undefined ? {} : { hint });

export function toApiError(err: unknown): { status: number; body: ApiError } {
  if (isConvoyError(err)) {
    return { status: httpStatusOf(err.code), body: { code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) } };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: { code: 'CONVOY_INTERNAL', message, hint: 'see the daemon log (journalctl -u convoy)' } };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ConvoyError('CONVOY_REQUEST_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`, { hint: 'control API requests are small JSON objects (docs/control-api.md): use fewer or shorter options and labels' });
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw bad('request body is not valid JSON', 'send a JSON object with the fields of docs/control-api.md');
  }
}

function obj(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('request body must be a JSON object', 'send a JSON object with the fields of docs/control-api.md');
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string, required: true): string;
function str(o: Record<string, unknown>, key: string, required?: false): string | undefined;
function str(o: Record<string, unknown>, key: string, required = false): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw bad(`"${key}" is required`, 'see docs/control-api.md for the fields of each request');
    return undefined;
  }
  if (typeof v !== 'string') throw bad(`"${key}" must be a string`);
  return v;
}

function strMap(o: Record<string, unknown>, key: string): Record<string, string> | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const m = obj(v);
  for (const [k, x] of Object.entries(m)) if (typeof x !== 'string') throw bad(`"${key}.${k}" must be a string`);
  return m as Record<string, string>;
}

export function summarize(m: Manifest, storeUrl: string): BackupSummary {
  return {
    id: m.id,
    volume: m.volume,
    created: m.created,
    snapshot: m.snapshot,
    size: m.size,
    parent: m.parent,
    labels: m.labels,
    url: formatBackupUrl(storeUrl.split('?')[0] as string, m.volume, m.id),
    stats: { ...m.stats },
  };
}

/**
 * Runs long work for a request: plain JSON, or — when the client accepts NDJSON — progress lines
 * then a result line. A client that goes away aborts the work.
 */
async function longWork<T>(req: IncomingMessage, res: ServerResponse, work: (signal: AbortSignal, onProgress: (p: Progress) => void) => Promise<T>): Promise<void> {
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

/** A listing's unreadable records: logged, and answered as `problems` beside what could be read. */
function reported(ctx: ControlContext, problems: Error[]): { problems?: ApiError[] } {
  if (problems.length === 0) return {};
  for (const p of problems) problemLog(ctx.log, p);
  return { problems: problems.map((p) => toApiError(p).body) };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
}

/** The control API (docs/control-api.md) as a node:http request listener. */
export function controlListener(ctx: ControlContext): (req: IncomingMessage, res: ServerResponse) => void {
  const { manager } = ctx;
  return (req, res) => {
    const started = Date.now();
    const method = req.method ?? 'GET';
    // Until the path parses, logs show the raw target (cut short: it is the client's text).
    let logPath = (req.url ?? '/').slice(0, 200);
    const route = async (): Promise<void> => {
      const { url, parts } = parseTarget(req.url ?? '/');
      logPath = url.pathname;
      if (parts[0] !== 'v1') throw new ConvoyError('CONVOY_UNKNOWN_ROUTE', `no such route ${method} ${url.pathname}`, { hint: 'see docs/control-api.md' });
      const [, col, name, action] = parts;
      const q = (k: string): string | undefined => url.searchParams.get(k) ?? undefined;
      if (col === 'info' && method === 'GET') return send(res, 200, await ctx.info());
      if (col === 'volumes') {
        if (name === undefined && method === 'GET') {
          const { volumes, problems } = await manager.list();
          return send(res, 200, { volumes, ...reported(ctx, problems) });
        }
        if (name === undefined && method === 'POST') {
          const b = obj(await readBody(req)) as Partial<CreateVolumeRequest> & Record<string, unknown>;
          const name_ = str(b, 'name', true);
          const driver = str(b, 'driver');
          const size = str(b, 'size');
          const backup = str(b, 'backup');
          const options = strMap(b, 'options');
          return longWork(req, res, (signal, onProgress) =>
            manager.create({
              name: name_,
              caller: 'cli',
              signal,
              onProgress,
              ...(driver === undefined ? {} : { driver }),
              ...(size === undefined ? {} : { size }),
              ...(backup === undefined ? {} : { backup }),
              ...(options === undefined ? {} : { options }),
            }),
          );
        }
        if (name !== undefined && action === undefined && method === 'GET') return send(res, 200, await manager.require(name));
        if (name !== undefined && action === undefined && method === 'DELETE') {
          await manager.remove(name, { caller: 'cli', force: q('force') === '1' || q('force') === 'true', keepData: q('reference') === '1' });
          return send(res, 200, {});
        }
        if (name !== undefined && action === 'mount' && method === 'POST') {
          const b = obj(await readBody(req)) as MountRequest & Record<string, unknown>;
          const mountpoint = str(b, 'mountpoint');
          return send(res, 200, { mountpoint: await manager.mount(name, { id: 'cli', caller: 'cli', ...(mountpoint === undefined ? {} : { mountpoint }) }) });
        }
        if (name !== undefined && action === 'umount' && method === 'POST') {
          await manager.unmount(name, { id: 'cli' });
          return send(res, 200, {});
        }
      }
      if (col === 'snapshots') {
        if (name === undefined && method === 'GET') {
          const { snapshots, problems } = await manager.snapshotList(q('volume'));
          return send(res, 200, { snapshots, ...reported(ctx, problems) });
        }
        if (name === undefined && method === 'POST') {
          const b = obj(await readBody(req)) as Partial<CreateSnapshotRequest> & Record<string, unknown>;
          return send(res, 200, await manager.snapshotCreate(str(b, 'volume', true), str(b, 'name')));
        }
        if (name !== undefined && method === 'GET') return send(res, 200, await manager.snapshotInspect(name));
        if (name !== undefined && method === 'DELETE') {
          await manager.snapshotDelete(name);
          return send(res, 200, {});
        }
      }
      if (col === 'backups') {
        if (name === undefined && method === 'POST') {
          const b = obj(await readBody(req)) as Partial<CreateBackupRequest> & Record<string, unknown>;
          const snapshot = str(b, 'snapshot', true);
          const dest = str(b, 'dest', true);
          const labels = strMap(b, 'labels');
          ctx.log.info({ snapshot, dest: redactUrl(dest) }, 'backup started');
          return longWork(req, res, async (signal, onProgress) => {
            const created = await manager.backupCreate(snapshot, dest, { signal, onProgress, ...(labels === undefined ? {} : { labels }) });
            ctx.usedStore?.(dest);
            return created;
          });
        }
        if (name === undefined && method === 'GET') {
          const dest = q('dest');
          if (dest === undefined) throw bad('"dest" is required', 'e.g. ?dest=vfs:///var/lib/convoy-backups');
          const list = await manager.backupList(dest, q('volume'));
          return send(res, 200, { backups: list.map((m) => summarize(m, dest)) });
        }
        if (name === 'inspect' && method === 'GET') {
          const u = q('url');
          if (u === undefined) throw bad('"url" is required', 'a backup URL: ?url=vfs:///path?backup=ID&volume=NAME, URL-encoded');
          const m = await manager.backupInspect(u);
          return send(res, 200, { ...summarize(m, u), manifest: m });
        }
        if (name === undefined && method === 'DELETE') {
          const u = q('url');
          if (u === undefined) throw bad('"url" is required', 'a backup URL: ?url=vfs:///path?backup=ID&volume=NAME, URL-encoded');
          const deleted = await manager.backupDelete(u);
          ctx.usedStore?.(u);
          return send(res, 200, deleted);
        }
      }
      throw new ConvoyError('CONVOY_UNKNOWN_ROUTE', `no such route ${method} ${url.pathname}`, { hint: 'see docs/control-api.md' });
    };
    route()
      .then(
        () => ctx.log.debug({ method, path: logPath, ms: Date.now() - started }, 'control request'),
        (err: unknown) => {
          const { status, body } = toApiError(err);
          (status >= 500 ? ctx.log.error.bind(ctx.log) : ctx.log.info.bind(ctx.log))({ method, path: logPath, code: body.code, err: body.message }, 'control request failed');
          if (!res.headersSent) send(res, status, { error: body });
          else if (!res.writableEnded) res.end();
        },
      )
      // Answering failed too (e.g. a result JSON cannot encode): cut this connection, never the daemon.
      .catch((err: unknown) => {
        ctx.log.error({ method, path: logPath, err: err instanceof Error ? err.message : String(err) }, 'control request could not be answered');
        res.destroy();
      });
  };
}

const invalidTarget = (message: string): ConvoyError =>
  new ConvoyError('CONVOY_INVALID_REQUEST', message, { hint: 'request paths are /v1/… with names percent-encoded (encodeURIComponent); see docs/control-api.md' });

/** The request target as a URL and its decoded path segments; anything malformed is a 400 answer. */
function parseTarget(target: string): { url: URL; parts: string[] } {
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
