// The control socket's request listener: finds the route (control/routes.ts), runs it, and turns
// every failure into an answer (control/http.ts), logging each request. Never throws: a request
// can fail, the daemon never does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseTarget, readWholeBody, send, toApiError } from './control/http.js';
import { findRoute, type ControlContext } from './control/routes.js';

export type { ControlContext } from './control/routes.js';

/** The control API (docs/control-api.md) as a node:http request listener. */
export function controlListener(ctx: ControlContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = Date.now();
    const method = req.method ?? 'GET';
    // Until the path parses, logs show the raw target (cut short: it is the client's text).
    let logPath = (req.url ?? '/').slice(0, 200);
    const route = async (): Promise<void> => {
      await readWholeBody(req);
      const { url, parts } = parseTarget(req.url ?? '/');
      logPath = url.pathname;
      const { route: found, name } = findRoute(method, parts, url.pathname);
      await found.run(ctx, { req, res, name, query: (k) => url.searchParams.get(k) ?? undefined });
    };
    route()
      .then(
        () => ctx.log.debug({ method, path: logPath, ms: Date.now() - started }, 'control request'),
        (err: unknown) => {
          const { status, body } = toApiError(err);
          (status >= 500 ? ctx.log.error.bind(ctx.log) : ctx.log.info.bind(ctx.log))(
            { method, path: logPath, code: body.code, err: body.message },
            'control request failed',
          );
          if ((err as { closeConnection?: boolean }).closeConnection === true && !res.headersSent) res.setHeader('connection', 'close');
          if (!res.headersSent) send(res, status, { error: body });
          else if (!res.writableEnded) res.end();
        },
      )
      // Answering failed too (e.g. a result JSON cannot encode): cut this connection, never the daemon.
      .catch((err: unknown) => {
        ctx.log.error(
          { method, path: logPath, err: err instanceof Error ? err.message : String(err) },
          'control request could not be answered',
        );
        res.destroy();
      });
  };
}
