import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDuration } from '@convoy/cli-kit';
import { ConvoyError } from '@convoy/errors';
import { s3EndpointProblem } from '@convoy/objectstore';
import { OPTION_KEY_RULE, parseKeyValues } from '@convoy/rules';
import { driverLocation } from '@convoy/volumes';
import { z } from 'zod';

/** Everything convoy-daemon is told: flags (as Rancher Convoy named them) over a JSON config file over defaults. */
export interface DaemonConfig {
  /** Durable state (mount references, driver state). */
  root: string;
  drivers: string[];
  /** Driver options, e.g. vfs.path=/mnt/nfs/convoy, dm.thinpoolname=… */
  driverOpts: Record<string, string>;
  defaultDriver?: string;
  ignoreDockerDelete: boolean;
  createOnDockerMount: boolean;
  /**
   * The socket Docker discovers by itself (in /run/docker/plugins), serving the plugin protocol,
   * or `none` for no such socket.
   */
  pluginSocket: string;
  /** `--socket`, as in Rancher Convoy: the convoy CLI's control API, and Docker's plugin protocol too (for spec files). */
  controlSocket: string;
  /** Group that may use the sockets (name or gid); default: the daemon's group. */
  socketGroup?: string;
  /** This host's name in vfs leases and tombstones. */
  hostId: string;
  /** S3 endpoint for s3:// backup URLs (else AWS_ENDPOINT_URL). */
  s3Endpoint?: string;
  logLevel: string;
  /** `--log FILE`: JSON log lines appended here (reopened on SIGHUP, for logrotate) instead of stderr. */
  logFile?: string;
  /**
   * Quick maintenance (merging the references of new and deleted backups) of every backup store
   * this daemon backed up to or deleted from since it started: a duration such as `1h`, or `off`.
   */
  maintenanceInterval: string;
  /** Full maintenance (also freeing unused blocks: reads the whole store) of those stores: `off` or a duration such as `24h`. */
  fullMaintenanceInterval: string;
  /** Serve Prometheus metrics (/metrics) and /healthz over HTTP here: `HOST:PORT`, `:PORT` or `PORT`. Off by default. */
  metricsListen?: string;
  /** Directories vfs:// backup stores must be in (the Docker plugin's backups mount); unset: anywhere. */
  vfsStoreRoots?: string[];
  /**
   * A file holding the passphrase of encrypted backup stores (mode 0600); else $CONVOY_PASSWORD
   * (e.g. from the systemd unit's EnvironmentFile). Read when a store turns out to be encrypted.
   */
  backupPasswordFile?: string;
}

export const DEFAULTS: DaemonConfig = {
  root: '/var/lib/convoy',
  drivers: ['vfs'],
  driverOpts: {},
  ignoreDockerDelete: false,
  createOnDockerMount: false,
  pluginSocket: '/run/docker/plugins/convoy.sock',
  controlSocket: '/var/run/convoy/convoy.sock',
  hostId: hostIdOf(os.hostname()),
  logLevel: 'info',
  maintenanceInterval: '1h',
  fullMaintenanceInterval: '24h',
};

/**
 * A host id from a hostname: as it is when it is a valid id (almost always), else with what a host
 * id cannot hold replaced (a host without a hostname, `(none)`, is `none`), so a default never
 * stops the daemon from starting.
 */
export function hostIdOf(hostname: string): string {
  const id = hostname
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 63);
  return id === '' ? 'localhost' : id;
}

/** The configuration of the first start, kept for the next ones (saved-config.ts), under --root. */
export const SAVED_CONFIG_FILE = 'daemon-config.json';

/**
 * The config with the location of each of its drivers written out (vfs.path, by default
 * `<root>/drivers/vfs`; dm.root, by default `<root>/drivers/devicemapper`), so that what is saved
 * names it even where a default chose it, and a later change of the default cannot move the
 * volumes. A root where Rancher Convoy kept its devicemapper driver (`<root>/devicemapper/
 * devicemapper.cfg`) and this program has no devicemapper state yet gets dm.root there: the
 * driver then adopts Convoy's pool in place (@convoy/devmapper adopt.ts).
 */
export function withDriverLocations(c: DaemonConfig): DaemonConfig {
  const opts = { ...c.driverOpts };
  if (c.drivers.includes('vfs') && opts['vfs.path'] === undefined)
    opts['vfs.path'] = driverLocation('vfs', { root: driverRoot(c), options: opts });
  if (c.drivers.includes('devicemapper') && opts['dm.root'] === undefined) {
    const ours = driverLocation('devicemapper', { root: driverRoot(c), options: opts });
    const convoys = path.join(c.root, 'devicemapper');
    const adopt = fs.existsSync(path.join(convoys, 'devicemapper.cfg')) && !fs.existsSync(path.join(ours, 'state.json'));
    opts['dm.root'] = adopt ? convoys : ours;
  }
  return { ...c, driverOpts: opts };
}

/** Where each driver of the config keeps its volumes, e.g. { vfs: '/var/lib/convoy/drivers/vfs' }. */
export function driverLocations(c: DaemonConfig): Record<string, string> {
  return Object.fromEntries(c.drivers.map((d) => [d, driverLocation(d, { root: driverRoot(c), options: c.driverOpts })]));
}

/** The drivers' state directory: `<root>/drivers`. */
export const driverRoot = (c: Pick<DaemonConfig, 'root'>): string => path.join(c.root, 'drivers');

/**
 * The one schema of a DaemonConfig as JSON: a config file (--config, every key optional) and the
 * saved configuration (saved-config.ts, every required key present) both read through it. A key a
 * later version adds must be optional here, so that a file saved before it still reads.
 */
export const daemonConfigSchema = z
  .object({
    root: z.string(),
    drivers: z.array(z.string()),
    driverOpts: z.record(z.string(), z.string()),
    defaultDriver: z.string().optional(),
    ignoreDockerDelete: z.boolean(),
    createOnDockerMount: z.boolean(),
    pluginSocket: z.string(),
    controlSocket: z.string(),
    socketGroup: z.string().optional(),
    hostId: z.string(),
    s3Endpoint: z.string().optional(),
    logLevel: z.string(),
    logFile: z.string().optional(),
    maintenanceInterval: z.string(),
    fullMaintenanceInterval: z.string(),
    metricsListen: z.string().optional(),
    vfsStoreRoots: z.array(z.string()).optional(),
    backupPasswordFile: z.string().optional(),
  })
  .strict() satisfies z.ZodType<DaemonConfig>;

const configFileSchema = daemonConfigSchema.partial();

/**
 * Written by versions before `--socket` meant the control socket (as in Convoy): in a config file
 * or a saved configuration, `socket` was, and is read as, Docker's plugin socket (`pluginSocket`).
 */
const LEGACY_SOCKET_KEY = 'socket';

/**
 * A config file or saved configuration of an earlier version, as this one names its keys: `socket`
 * (Docker's plugin socket then) becomes `pluginSocket`. Anything else is left to the schema.
 */
export function migrateSavedConfig(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !(LEGACY_SOCKET_KEY in v)) return v;
  const { [LEGACY_SOCKET_KEY]: socket, ...rest } = v as Record<string, unknown>;
  return 'pluginSocket' in rest ? v : { ...rest, pluginSocket: socket };
}

/** The first problem zod found, as one line naming the key: `"drivers" must be an array`. */
export function configProblem(error: z.ZodError): { message: string; hint?: string } {
  const issue = error.issues[0];
  if (issue === undefined) return { message: 'invalid' };
  if (issue.code === 'unrecognized_keys') {
    return {
      message: `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
      hint: `known keys: ${Object.keys(daemonConfigSchema.shape).join(', ')}`,
    };
  }
  const where = issue.path.length === 0 ? 'the configuration' : `"${issue.path.map(String).join('.')}"`;
  if (issue.code === 'invalid_type') {
    const type = issue.expected === 'record' ? 'object' : issue.expected;
    return { message: `${where} must be ${type === 'array' || type === 'object' ? 'an' : 'a'} ${type}` };
  }
  return { message: `${where}: ${issue.message}` };
}

export class ConfigError extends ConvoyError {
  constructor(message: string, hint?: string) {
    super('CONVOY_CONFIG_INVALID', message, { hint });
  }
}

/**
 * Reads a JSON config file (same keys as DaemonConfig); unknown keys and wrong types are errors.
 * `warn` hears of old key names, which are read as they were meant.
 */
export function readConfigFile(file: string, warn?: (message: string) => void): Partial<DaemonConfig> {
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(
      `cannot read config file ${file}: ${(err as Error).message}`,
      'the config file is JSON with the keys of `convoy-daemon --help`',
    );
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${file} must hold a JSON object`);
  if (LEGACY_SOCKET_KEY in v && 'pluginSocket' in v) {
    throw new ConfigError(
      `${file}: both "socket" and "pluginSocket" are given`,
      '"socket" is the old name of "pluginSocket" (the socket in /run/docker/plugins): keep only "pluginSocket"',
    );
  }
  if (LEGACY_SOCKET_KEY in v) warn?.(`${file}: "socket" is the old name of "pluginSocket" (read as that); rename it`);
  const parsed = configFileSchema.safeParse(migrateSavedConfig(v));
  if (parsed.success) return parsed.data;
  const problem = configProblem(parsed.error);
  throw new ConfigError(`${file}: ${problem.message}`, problem.hint);
}

/** Parses `k=v` pairs (--driver-opts) by the one key=value grammar of @convoy/rules. */
export function parsePairs(pairs: readonly string[], what: string): Record<string, string> {
  return parseKeyValues(pairs, ({ pair, kind, key }) => {
    if (kind === 'duplicate') throw new ConfigError(`${what} ${key} is given twice`, 'give each option once');
    throw new ConfigError(`${what} "${pair}" is not key=value`, `e.g. --driver-opts vfs.path=/mnt/nfs/convoy; keys are ${OPTION_KEY_RULE}`);
  });
}

export function validateConfig(c: DaemonConfig): DaemonConfig {
  for (const [k, p] of [
    ['root', c.root],
    ['controlSocket', c.controlSocket],
    ...(c.pluginSocket === 'none' ? [] : [['pluginSocket', c.pluginSocket] as const]),
    ...(c.logFile === undefined ? [] : [['logFile', c.logFile] as const]),
  ] as const) {
    if (!p.startsWith('/')) throw new ConfigError(`${k} must be an absolute path: ${p}`);
  }
  if (c.pluginSocket === c.controlSocket) {
    throw new ConfigError(
      `the plugin socket and the control socket are both ${c.controlSocket}`,
      'the control socket (--socket) serves Docker too: give --plugin-socket none to have only it',
    );
  }
  if (c.drivers.length === 0) throw new ConfigError('no drivers', 'e.g. --drivers vfs');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(c.hostId))
    throw new ConfigError(`invalid host id "${c.hostId}"`, 'use letters, digits, _ . -');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(c.logLevel))
    throw new ConfigError(`invalid log level "${c.logLevel}"`);
  const endpointProblem = c.s3Endpoint === undefined ? undefined : s3EndpointProblem(c.s3Endpoint);
  if (endpointProblem !== undefined) {
    throw new ConfigError(
      `invalid s3Endpoint: ${endpointProblem}`,
      'give an http(s) URL without credentials, e.g. --s3-endpoint http://127.0.0.1:7480; keys go in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY',
    );
  }
  maintenanceSchedule(c);
  if (c.metricsListen !== undefined) listenAddress(c.metricsListen);
  for (const r of c.vfsStoreRoots ?? []) {
    if (!r.startsWith('/')) throw new ConfigError(`vfsStoreRoots must be absolute paths: ${r}`);
  }
  return c;
}

/** `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (all addresses when no host is given). */
export function listenAddress(text: string): { host?: string; port: number } {
  const m = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (m === null || port > 65535) {
    throw new ConfigError(
      `invalid metricsListen "${text}"`,
      'give --metrics-listen HOST:PORT, :PORT or PORT, e.g. 127.0.0.1:9323 (0 picks a free port)',
    );
  }
  const host = m[1]?.replace(/^\[|\]$/g, '');
  return host === undefined || host === '' ? { port } : { host, port };
}

/** When the daemon maintains the backup stores it uses: milliseconds between runs, null for never. */
export interface MaintenanceSchedule {
  quickEveryMs: number | null;
  fullEveryMs: number | null;
}

/** The config's maintenance intervals, parsed: `off` or `0` is null (never), else a duration of at least a minute. */
export function maintenanceSchedule(c: Pick<DaemonConfig, 'maintenanceInterval' | 'fullMaintenanceInterval'>): MaintenanceSchedule {
  return {
    quickEveryMs: interval(c.maintenanceInterval, 'maintenanceInterval', '--maintenance-interval'),
    fullEveryMs: interval(c.fullMaintenanceInterval, 'fullMaintenanceInterval', '--full-maintenance-interval'),
  };
}

function interval(text: string, key: string, flag: string): number | null {
  if (text.trim() === 'off') return null;
  const ms = parseDuration(text);
  if (ms === 0) return null;
  if (ms === undefined || ms < 60_000) {
    throw new ConfigError(`invalid ${key} "${text}"`, `give ${flag} a duration of at least a minute (e.g. 30m, 1h, 24h, 7d), or off`);
  }
  return ms;
}
