// `--metrics-listen ADDR`: Prometheus text format at /metrics, a health check at /healthz.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DaemonMetrics } from './metrics.js';
import type { Logger } from './logger.js';

/** What /healthz says: 200 when every configured driver runs, 503 (degraded) when one could not start. */
export interface Health {
  status: 'ok' | 'degraded';
  drivers: string[];
  unavailable: Record<string, unknown>;
}

export interface MetricsServer {
  /** Where it listens (port 0 in the config picks one). */
  address: AddressInfo;
  close(): Promise<void>;
}

export async function serveMetrics(
  listen: { host?: string; port: number },
  metrics: DaemonMetrics,
  health: () => Promise<Health>,
  log: Logger,
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = async (): Promise<void> => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/metrics') {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : text);
      } else if (path === '/healthz') {
        const h = await health();
        res.writeHead(h.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(h)}\n`);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: see /metrics and /healthz\n');
      }
    };
    answer().catch((err: unknown) => {
      log.warn({ path, err: err instanceof Error ? err.message : String(err) }, 'metrics request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable: see the daemon log\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
