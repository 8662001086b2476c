import fs from 'node:fs/promises';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { runMaintenance } from '@convoy/blockstore';
import { answerClientErrors, listenUnixHttp } from '@convoy/daemon-kit';
import { isConvoyError } from '@convoy/errors';
import {
  createPluginHandler,
  isPluginCall,
  listenPluginSocket,
  pluginListener,
  type BackendVolume,
  type PluginErrorEvent,
  type VolumeBackend,
} from '@convoy/plugin-protocol';
import { VolumeManager, createDriver, type ManagedVolume } from '@convoy/volumes';
import { driverLocations, driverRoot, listenAddress, maintenanceSchedule, type DaemonConfig } from './config.js';
import { clientErrorBody } from './control/http.js';
import { DaemonMetrics } from './metrics.js';
import { serveMetrics, type Health, type MetricsServer } from './metrics-server.js';
import { controlListener } from './control-routes.js';
import { problemLog, type Logger } from './logger.js';
import { resolveGroup } from './group.js';
import { MaintenanceScheduler, type Timers } from './maintenance.js';
import { backupScheduler } from './schedules/run.js';
import { createOperations, type Operations } from './operations.js';
import { daemonStoreOpener } from './store-open.js';
import { VERSION } from './version.js';

export interface RunningDaemon {
  manager: VolumeManager;
  /** Scheduled maintenance of the backup stores this daemon backed up to or deleted from. */
  maintenance: MaintenanceScheduler;
  /** Where /metrics and /healthz are served (with --metrics-listen). */
  metricsAddress?: AddressInfo;
  /** Stops accepting, stops scheduled maintenance (aborting a run), drains in-flight requests on both sockets, stops the drivers. */
  close(): Promise<void>;
}

/**
 * A plugin request answered with Err, in the log: at debug for Docker's Get of a volume that does
 * not exist (Docker asks that before every create: it is no problem), else at warn.
 */
function pluginErrorLog(log: Logger, metrics: DaemonMetrics | undefined, e: PluginErrorEvent): void {
  const code = isConvoyError(e.error) ? e.error.code : undefined;
  metrics?.pluginError(e.endpoint, code);
  const normal = e.phase === 'request' && e.endpoint === '/VolumeDriver.Get' && code === 'CONVOY_VOLUME_NOT_FOUND';
  log[normal ? 'debug' : 'warn'](
    { endpoint: e.endpoint, phase: e.phase, code, err: e.error instanceof Error ? e.error.message : String(e.error) },
    normal ? 'Docker asked for a volume that does not exist' : 'plugin request failed',
  );
}

async function health(manager: VolumeManager): Promise<Health> {
  const info = await manager.info();
  const unavailable = (info.unavailable ?? {}) as Record<string, unknown>;
  return {
    status: Object.keys(unavailable).length === 0 ? 'ok' : 'degraded',
    drivers: Object.keys((info.drivers ?? {}) as object),
    unavailable,
  };
}

export interface StartOptions {
  /** The maintenance scheduler's clock and timers (tests). */
  timers?: Timers;
  /** How long a client may take to send a whole control request (default CONTROL_REQUEST_TIMEOUT_MS; tests use less). */
  controlRequestTimeoutMs?: number;
  /**
   * Called once the drivers started, before the sockets listen: main saves the effective
   * configuration there (saved-config.ts), so a start that fails saves nothing.
   */
  saveConfig?: () => Promise<void>;
}

/**
 * A control request not fully received within this is answered 408 and its connection closed, so
 * a client that stops sending mid-request does not hold a connection forever. It bounds receiving
 * the request only: the work and its streamed answer (a backup) take as long as they take.
 */
export const CONTROL_REQUEST_TIMEOUT_MS = 5 * 60_000;

function toBackendVolume(v: ManagedVolume): BackendVolume {
  return {
    name: v.name,
    createdAt: v.createdAt,
    mountpoint: v.mountpoint,
    status: { uuid: v.uuid, driver: v.driver, size: v.size, ...(v.status ?? {}) },
  };
}

/**
 * Docker's view: every call comes from Docker ('docker' caller semantics in the manager). Docker's
 * List has no room for a per-volume error: a volume whose record is unreadable is left out of it
 * and told to `onProblem` (the log).
 */
export function dockerBackend(manager: VolumeManager, onProblem: (err: Error) => void = () => undefined, ops?: Operations): VolumeBackend {
  return {
    create: async (name, opts) => {
      const create = (): Promise<unknown> => manager.create({ name, caller: 'docker', options: opts ?? {} });
      // `docker volume create -o backup=URL` restores: logged (and counted) from start to end
      if (opts?.backup === undefined || ops === undefined) await create();
      else
        await ops.run('restore', { volume: name, url: opts.backup, caller: 'docker' }, (onProgress) =>
          manager.create({ name, caller: 'docker', options: opts, onProgress }),
        );
    },
    remove: (name) =>
      ops === undefined
        ? manager.remove(name, { caller: 'docker' })
        : ops.run('volume delete', { volume: name, caller: 'docker' }, () => manager.remove(name, { caller: 'docker' })),
    mount: (name, id) => manager.mount(name, { id, caller: 'docker' }),
    unmount: (name, id) => manager.unmount(name, { id }),
    path: async (name) => (await manager.get(name, 'docker'))?.mountpoint,
    get: async (name) => {
      const v = await manager.get(name, 'docker');
      if (v !== undefined) return toBackendVolume(v);
      // absent: if a driver knows why (deleted by another host), say so in Docker's Err
      await manager.require(name);
      return undefined;
    },
    list: async () => {
      const { volumes, problems } = await manager.list();
      problems.forEach(onProblem);
      return volumes.map(toBackendVolume);
    },
    capabilities: () => ({ scope: manager.scope }),
  };
}

export async function startDaemon(config: DaemonConfig, log: Logger, options: StartOptions = {}): Promise<RunningDaemon> {
  await fs.mkdir(config.root, { recursive: true, mode: 0o700 });
  const drivers = config.drivers.map((name) =>
    createDriver(name, {
      root: driverRoot(config),
      options: config.driverOpts,
      hostId: config.hostId,
      log: (driver, level, message) => log[level]({ driver }, message),
    }),
  );
  // Every store the daemon opens (backups, restores, schedules, maintenance): encrypted ones unlocked
  const openStore = daemonStoreOpener(config, process.env);
  const manager = await VolumeManager.open({
    root: path.join(config.root, 'manager'),
    drivers,
    defaultDriver: config.defaultDriver,
    ignoreDockerDelete: config.ignoreDockerDelete,
    createOnDockerMount: config.createOnDockerMount,
    openStore,
    onProblem: (err) => problemLog(log, err),
    onDriverUnavailable: (driver, err) => {
      const e = err as { code?: string; message?: string; hint?: string };
      log.error({ driver, code: e.code, err: e.message, hint: e.hint }, 'driver could not start; serving the others');
    },
  });
  const schedule = maintenanceSchedule(config);
  const maintenance = new MaintenanceScheduler({
    ...schedule,
    log,
    timers: options.timers,
    run: async (url, full, signal) => {
      const store = await openStore(url);
      try {
        // Another host's maintenance of the store: skip this turn. A full one only if no host ran one
        // within the interval (gc/last-full.json), so a thousand hosts share one daily full maintenance.
        const fullIf = full && schedule.fullEveryMs !== null ? { fullIfOlderThanMs: schedule.fullEveryMs } : {};
        return await runMaintenance({ store, ...fullIf, signal, lockWaitMs: 0 });
      } finally {
        await store.close();
      }
    },
  });
  const schedules = backupScheduler(config.root, options.timers, {
    manager,
    ops: { run: (kind, fields, work, onProgress) => ops.run(kind, fields, work, onProgress) }, // started below, once `ops` exists
    log,
    openStore,
    usedStore: (url) => maintenance.remember(url),
  });
  try {
    await options.saveConfig?.();
  } catch (err) {
    await manager.close();
    throw err;
  }
  const gid = config.socketGroup === undefined ? undefined : await resolveGroup(config.socketGroup);
  const socketOpts = { mode: 0o660, gid };

  const metrics = config.metricsListen === undefined ? undefined : new DaemonMetrics(manager);
  const ops = createOperations({ log, metrics });
  const handler = createPluginHandler(
    dockerBackend(manager, (err) => problemLog(log, err), ops),
    {
      refs: manager.mountRefs.counter,
      // The manager decides: Docker's Remove comes only when no container uses the volume, so Docker
      // IDs left over (Unmounts lost while the daemon was down) are dropped; an operator mount blocks.
      allowRemoveWhileMounted: true,
      onError: (e) => pluginErrorLog(log, metrics, e),
    },
  );
  const started: { close(): Promise<void> }[] = [];
  let metricsServer: MetricsServer | undefined;
  try {
    const plugin = metrics?.instrumentPlugin(handler) ?? handler;
    if (config.pluginSocket !== 'none') started.push(await listenPluginSocket(plugin, { socketPath: config.pluginSocket, ...socketOpts }));
    const info = async (): Promise<Record<string, unknown>> => ({
      version: VERSION,
      host: config.hostId,
      root: config.root,
      general: generalInfo(config, manager.defaultDriver),
      ...(await manager.info()),
    });
    // As in Rancher Convoy, the control socket speaks Docker's protocol too (spec files name it).
    const pluginOnControl = pluginListener(plugin);
    const requestTimeout = options.controlRequestTimeoutMs ?? CONTROL_REQUEST_TIMEOUT_MS;
    const control = createServer(
      // node:http checks for expired requests every connectionsCheckingInterval (30 s by default)
      {
        requestTimeout,
        headersTimeout: Math.min(60_000, requestTimeout),
        connectionsCheckingInterval: Math.min(30_000, Math.max(50, requestTimeout / 4)),
      },
      controlAndPlugin(
        controlListener({ manager, log, info, ops, schedules, usedStore: (url) => maintenance.remember(url) }),
        pluginOnControl,
      ),
    );
    answerClientErrors(control, clientErrorBody);
    started.push(
      await listenUnixHttp(control, {
        socketPath: config.controlSocket,
        drainTimeoutMs: 30_000,
        onDrain: pluginOnControl.drain,
        ...socketOpts,
      }),
    );
    if (metrics !== undefined && config.metricsListen !== undefined) {
      metricsServer = await serveMetrics(listenAddress(config.metricsListen), metrics, () => health(manager), log);
      started.push(metricsServer);
    }
  } catch (err) {
    for (const s of started) await s.close();
    await manager.close();
    throw err;
  }
  maintenance.start();
  try {
    await schedules.start();
  } catch (err) {
    for (const s of started) await s.close();
    await manager.close();
    throw err;
  }
  const locations = driverLocations(config);
  const served = metricsServer === undefined ? {} : { metrics: `${metricsServer.address.address}:${metricsServer.address.port}` };
  log.info(
    {
      controlSocket: config.controlSocket,
      pluginSocket: config.pluginSocket,
      drivers: locations,
      root: config.root,
      host: config.hostId,
      ...served,
    },
    // the message stays exactly this (test harnesses and tools/reliability wait for it); `drivers` names each driver and its path
    'convoy-daemon ready',
  );
  return {
    manager,
    maintenance,
    ...(metricsServer === undefined ? {} : { metricsAddress: metricsServer.address }),
    close: async () => {
      await Promise.all([...started.map((s) => s.close()), maintenance.stop(), schedules.stop()]);
      await manager.close();
    },
  };
}

/** One listener for the control socket: Docker's plugin calls to the plugin protocol, everything else to the control API. */
function controlAndPlugin(control: RequestListener, plugin: RequestListener): RequestListener {
  return (req, res) => (isPluginCall(req.method, req.url) ? plugin(req, res) : control(req, res));
}

/** `convoy info`'s general section, as Rancher Convoy's "General": how this daemon was started (no secrets: none are in the config). */
function generalInfo(c: DaemonConfig, defaultDriver: string): Record<string, unknown> {
  return {
    root: c.root,
    drivers: c.drivers,
    defaultDriver,
    driverOpts: c.driverOpts,
    ignoreDockerDelete: c.ignoreDockerDelete,
    createOnDockerMount: c.createOnDockerMount,
    socket: c.controlSocket,
    pluginSocket: c.pluginSocket,
    logLevel: c.logLevel,
    maintenanceInterval: c.maintenanceInterval,
    fullMaintenanceInterval: c.fullMaintenanceInterval,
  };
}
