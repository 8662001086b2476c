// convoy-daemon's Prometheus metrics (prom-client), read on each scrape from the volume manager
// and counted as plugin requests and backup/restore operations happen. docs/metrics.md lists them.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PluginHandler } from '@convoy/plugin-protocol';
import type { VolumeManager } from '@convoy/volumes';

/** Backups and restores: what operations.ts reports when one ends. */
export type TransferKind = 'backup' | 'restore';
export type Outcome = 'ok' | 'failed' | 'cancelled';

export interface TransferEnd {
  kind: TransferKind;
  volume: string;
  outcome: Outcome;
  seconds: number;
  /** Logical bytes read (backup) or written (restore). */
  bytes: number;
  /** Bytes sent to (backup) or fetched from (restore) the store. */
  transferred: number;
  /** When it ended (ms since the epoch): the last success time. */
  at: number;
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const TRANSFER_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600];

function transferMetrics(kind: TransferKind, registers: Registry[]) {
  const verb = kind === 'backup' ? 'read from the volume' : 'written to the volume';
  return {
    bytes: new Counter({
      name: `convoy_${kind}_bytes_total`,
      help: `Bytes ${verb} by ${kind}s that succeeded, per volume.`,
      labelNames: ['volume'],
      registers,
    }),
    transferred: new Counter({
      name: `convoy_${kind}_transferred_bytes_total`,
      help: `Bytes ${kind === 'backup' ? 'sent to' : 'fetched from'} backup stores by ${kind}s that succeeded, per volume.`,
      labelNames: ['volume'],
      registers,
    }),
    duration: new Histogram({
      name: `convoy_${kind}_duration_seconds`,
      help: `How long ${kind}s took, per volume and outcome (ok, failed, cancelled).`,
      labelNames: ['volume', 'outcome'],
      buckets: TRANSFER_BUCKETS,
      registers,
    }),
    failures: new Counter({
      name: `convoy_${kind}_failures_total`,
      help: `${kind === 'backup' ? 'Backups' : 'Restores'} that failed (not counting cancelled ones), per volume.`,
      labelNames: ['volume'],
      registers,
    }),
    lastSuccess: new Gauge({
      name: `convoy_${kind}_last_success_timestamp_seconds`,
      help: `When the last ${kind} that succeeded ended (Unix time), per volume.`,
      labelNames: ['volume'],
      registers,
    }),
  };
}

/** The daemon's registry: default process metrics plus Convoy's. */
export class DaemonMetrics {
  readonly registry = new Registry();
  readonly #transfers: Record<TransferKind, ReturnType<typeof transferMetrics>>;
  readonly #requests: Counter<'endpoint' | 'outcome'>;
  readonly #latency: Histogram<'endpoint'>;
  readonly #pluginErrors: Counter<'endpoint' | 'code'>;

  constructor(manager: VolumeManager) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'convoy_daemon_' });
    this.#transfers = { backup: transferMetrics('backup', registers), restore: transferMetrics('restore', registers) };
    this.#requests = new Counter({
      name: 'convoy_plugin_requests_total',
      help: 'Docker plugin requests, per endpoint and outcome (ok, or err: answered with Err).',
      labelNames: ['endpoint', 'outcome'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'convoy_plugin_request_duration_seconds',
      help: 'How long Docker plugin requests took to answer, per endpoint.',
      labelNames: ['endpoint'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#pluginErrors = new Counter({
      name: 'convoy_plugin_errors_total',
      help: 'Errors behind Err answers (and failed saves of the mount state), per endpoint and error code.',
      labelNames: ['endpoint', 'code'],
      registers,
    });
    scrapedGauges(manager, registers);
  }

  /** A PluginHandler that counts and times every request `handler` answers. */
  instrumentPlugin(handler: PluginHandler): PluginHandler {
    return async (path, body) => {
      const stop = this.#latency.startTimer({ endpoint: endpointLabel(path) });
      try {
        const reply = await handler(path, body);
        this.#requests.inc({
          endpoint: endpointLabel(path),
          outcome: reply.status === 200 && !('Err' in reply.body && reply.body.Err) ? 'ok' : 'err',
        });
        return reply;
      } finally {
        stop();
      }
    };
  }

  pluginError(endpoint: string, code: string | undefined): void {
    this.#pluginErrors.inc({ endpoint: endpointLabel(endpoint), code: code ?? 'unknown' });
  }

  transferEnded(e: TransferEnd): void {
    const m = this.#transfers[e.kind];
    m.duration.observe({ volume: e.volume, outcome: e.outcome }, e.seconds);
    if (e.outcome === 'failed') m.failures.inc({ volume: e.volume });
    if (e.outcome !== 'ok') return;
    m.bytes.inc({ volume: e.volume }, e.bytes);
    m.transferred.inc({ volume: e.volume }, e.transferred);
    m.lastSuccess.set({ volume: e.volume }, e.at / 1000);
  }
}

/** Known endpoints as they are; anything else as `other` (a client's text must not make new series). */
function endpointLabel(path: string): string {
  return /^\/(?:Plugin\.Activate|VolumeDriver\.(?:Create|Remove|Mount|Unmount|Path|Get|List|Capabilities))$/.test(path)
    ? path.slice(1)
    : 'other';
}

/** Gauges read from the manager when Prometheus scrapes: volumes, mounts, drivers, thin pools. */
function scrapedGauges(manager: VolumeManager, registers: Registry[]): void {
  // one list() and one info() per scrape, shared by the gauges' collect()
  let pending: Promise<void> | undefined;
  const collect = (): Promise<void> => (pending ??= read().finally(() => (pending = undefined)));
  const volumes = new Gauge({
    name: 'convoy_volumes',
    help: 'Volumes per driver and state (mounted: some container or convoy mount holds it on this host; unmounted).',
    labelNames: ['driver', 'state'],
    registers,
    collect,
  });
  const unreadable = new Gauge({
    name: 'convoy_volume_records_unreadable',
    help: 'Volume records that could not be read (listings leave them out; see the log).',
    registers,
    collect,
  });
  const mounts = new Gauge({
    name: 'convoy_mounts',
    help: 'Mount references on this host, per holder (docker: container mounts; cli: convoy mount).',
    labelNames: ['holder'],
    registers,
    collect,
  });
  const drivers = new Gauge({
    name: 'convoy_driver_up',
    help: 'Whether each configured driver runs (1) or could not start (0).',
    labelNames: ['driver'],
    registers,
    collect,
  });
  const pool = new Gauge({
    name: 'convoy_thinpool_bytes',
    help: 'Thin pool space of the devicemapper driver: data and metadata, used and total.',
    labelNames: ['pool', 'kind', 'usage'],
    registers,
    collect,
  });
  async function read(): Promise<void> {
    const [list, info] = await Promise.all([manager.list(), manager.info()]);
    volumes.reset();
    mounts.reset();
    for (const v of list.volumes) {
      volumes.inc({ driver: v.driver, state: v.mountedBy.length > 0 ? 'mounted' : 'unmounted' });
      for (const id of v.mountedBy) mounts.inc({ holder: id === 'cli' ? 'cli' : 'docker' });
    }
    unreadable.set(list.problems.length);
    drivers.reset();
    const running = (info.drivers ?? {}) as Record<string, Record<string, unknown>>;
    for (const d of Object.keys(running)) drivers.set({ driver: d }, 1);
    for (const d of Object.keys((info.unavailable ?? {}) as object)) drivers.set({ driver: d }, 0);
    pool.reset();
    const dm = running.devicemapper;
    if (dm === undefined) return;
    for (const [kind, usage, key] of [
      ['data', 'used', 'dataUsedBytes'],
      ['data', 'total', 'dataTotalBytes'],
      ['metadata', 'used', 'metadataUsedBytes'],
      ['metadata', 'total', 'metadataTotalBytes'],
    ] as const) {
      const value = dm[key];
      if (typeof value === 'number') pool.set({ pool: String(dm.name), kind, usage }, value);
    }
  }
}
