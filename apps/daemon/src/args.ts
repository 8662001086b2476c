import yargs from 'yargs';
import { ConfigError, DEFAULTS, SAVED_CONFIG_FILE, parsePairs, readConfigFile, validateConfig, type DaemonConfig } from './config.js';

/** What one start of convoy-daemon was told, before the configuration saved under its root. */
export interface ParsedArgs {
  /** The flags over `--config FILE` over the defaults. */
  config: DaemonConfig;
  /** Only what the flags and the config file gave (no defaults): what may conflict with the saved configuration. */
  given: Partial<DaemonConfig>;
  /** `--reconfigure`: the given values replace the saved ones, those that choose the volumes included. */
  reconfigure: boolean;
  /** What the start logs at warn: Rancher Convoy flags without effect here, old config key names. */
  warnings: string[];
}

/** convoy-daemon's flags, as Rancher Convoy named them, over `--config FILE`, over defaults. */
export async function parseArgs(argv: string[]): Promise<DaemonConfig> {
  return (await parseDaemonArgs(argv)).config;
}

/** parseArgs, also telling which values were given (saved-config.ts compares them with the saved ones). */
export async function parseDaemonArgs(argv: string[]): Promise<ParsedArgs> {
  const a = await yargs(argv)
    .scriptName('convoy-daemon')
    .usage('$0 [options]\n\nServes the Docker volume plugin socket and the convoy control API.')
    .option('config', { type: 'string', describe: 'JSON config file (keys as below, camelCase); flags override it' })
    .option('root', { type: 'string', describe: `state directory (default ${DEFAULTS.root})` })
    .option('drivers', { type: 'array', string: true, describe: 'volume drivers to run: vfs, devicemapper (default vfs)' })
    .option('driver-opts', { type: 'array', string: true, describe: 'driver options key=value, e.g. vfs.path=/mnt/nfs/convoy' })
    .option('default-driver', { type: 'string', describe: 'driver for volumes created without one (default: the first)' })
    .option('ignore-docker-delete', { type: 'boolean', describe: 'keep volumes (and data) when Docker removes them' })
    .option('create-on-docker-mount', { type: 'boolean', describe: 'create a volume Docker mounts that does not exist' })
    .option('socket', {
      type: 'string',
      alias: ['s', 'control-socket'],
      describe: `the convoy CLI's socket, which serves Docker's plugin protocol too, as in Rancher Convoy (default ${DEFAULTS.controlSocket})`,
    })
    .option('plugin-socket', {
      type: 'string',
      describe: `the socket Docker finds by itself, plugin protocol only; none: no such socket (default ${DEFAULTS.pluginSocket})`,
    })
    .option('socket-group', { type: 'string', describe: 'group allowed to use the sockets (mode 0660)' })
    .option('host-id', { type: 'string', describe: 'this host in shared vfs leases (default: hostname)' })
    .option('s3-endpoint', { type: 'string', describe: 'S3 endpoint for s3:// backups (default AWS_ENDPOINT_URL)' })
    .option('log-level', { type: 'string', describe: 'fatal|error|warn|info|debug|trace (default info)' })
    .option('debug', { type: 'boolean', alias: 'd', describe: 'log at debug level (--log-level debug), as in Rancher Convoy' })
    .option('verbose', { type: 'boolean', describe: 'the same as --debug (Rancher Convoy took it before any command)' })
    .option('log', { type: 'string', describe: 'append the JSON log lines to this file instead of stderr; SIGHUP reopens it (logrotate)' })
    .option('cmd-timeout', { type: 'string', hidden: true })
    .option('mnt-ns', { type: 'string', hidden: true })
    .option('maintenance-interval', {
      type: 'string',
      describe: `quick maintenance of the backup stores this daemon used since it started: merge new and deleted backups (e.g. 30m, 1h; off disables; default ${DEFAULTS.maintenanceInterval})`,
    })
    .option('full-maintenance-interval', {
      type: 'string',
      describe: `full maintenance of those stores: also free the blocks no backup uses; reads the whole store (e.g. 24h, 7d; default ${DEFAULTS.fullMaintenanceInterval})`,
    })
    .option('metrics-listen', {
      type: 'string',
      describe:
        'serve Prometheus metrics at /metrics and a health check at /healthz over HTTP on HOST:PORT, :PORT or PORT (off by default; e.g. 127.0.0.1:9323)',
    })
    .option('vfs-store-roots', {
      type: 'array',
      string: true,
      describe:
        'directories vfs:// backup stores must be in; others are refused (the Docker plugin sets its backups mount; default: anywhere)',
    })
    .option('backup-password-file', {
      type: 'string',
      describe:
        "file (mode 0600) holding the passphrase of encrypted backup stores (default: $CONVOY_PASSWORD, e.g. from the unit's EnvironmentFile)",
    })
    .option('reconfigure', {
      type: 'boolean',
      alias: 'ignore-config-file',
      describe: `replace the configuration saved under --root (${SAVED_CONFIG_FILE}) by these flags, even where they change which volumes are seen (vfs.path, drivers, host id)`,
    })
    .example('$0', 'vfs volumes under /var/lib/convoy, plugin socket for Docker; later starts use the configuration saved there')
    .example(
      '$0 --socket /var/run/convoy/convoy.sock --plugin-socket none',
      'one socket, as Rancher Convoy had: Docker finds it through a spec file (unix:///var/run/convoy/convoy.sock in /etc/docker/plugins/convoy.spec)',
    )
    .example(
      '$0 --drivers vfs --driver-opts vfs.path=/mnt/nfs/convoy vfs.shared=true --host-id node-a',
      'volumes on an NFS share, seen by every host (Docker scope global)',
    )
    .example('$0 --maintenance-interval 1h --full-maintenance-interval 7d', 'free unused backup blocks once a week instead of daily')
    .epilogue(
      `The first start saves its configuration in <root>/${SAVED_CONFIG_FILE}; a start with only --root (or nothing) uses it. ` +
        'A start whose flags or config file change which volumes are seen (drivers, driver options such as vfs.path, host id) is refused until given --reconfigure; ' +
        'other values (sockets, log level, intervals, …) are taken and saved.',
    )
    .strict()
    .help()
    .version()
    .parseAsync();
  if (a['mnt-ns'] !== undefined) {
    throw new ConfigError(
      '--mnt-ns is not supported: convoy-daemon mounts in the mount namespace it runs in',
      'start convoy-daemon inside that namespace instead, e.g. nsenter --mount=/proc/<pid>/ns/mnt convoy-daemon …',
    );
  }
  const warnings: string[] = [];
  const file = a.config === undefined ? {} : readConfigFile(a.config, (w) => warnings.push(w));
  const g: Partial<DaemonConfig> = { ...file };
  if (a.root !== undefined) g.root = a.root;
  if (a.drivers !== undefined) g.drivers = a.drivers.flatMap((d) => d.split(',')).filter((d) => d !== '');
  if (a['driver-opts'] !== undefined) g.driverOpts = { ...file.driverOpts, ...parsePairs(a['driver-opts'], '--driver-opts') };
  if (a['default-driver'] !== undefined) g.defaultDriver = a['default-driver'];
  if (a['ignore-docker-delete'] !== undefined) g.ignoreDockerDelete = a['ignore-docker-delete'];
  if (a['create-on-docker-mount'] !== undefined) g.createOnDockerMount = a['create-on-docker-mount'];
  if (a.socket !== undefined) g.controlSocket = a.socket;
  if (a['plugin-socket'] !== undefined) g.pluginSocket = a['plugin-socket'];
  if (a['socket-group'] !== undefined) g.socketGroup = a['socket-group'];
  if (a['host-id'] !== undefined) g.hostId = a['host-id'];
  if (a['s3-endpoint'] !== undefined) g.s3Endpoint = a['s3-endpoint'];
  if (a.debug === true || a.verbose === true) g.logLevel = 'debug';
  if (a['log-level'] !== undefined) g.logLevel = a['log-level'];
  if (a.log !== undefined) g.logFile = a.log;
  if (a['maintenance-interval'] !== undefined) g.maintenanceInterval = a['maintenance-interval'];
  if (a['full-maintenance-interval'] !== undefined) g.fullMaintenanceInterval = a['full-maintenance-interval'];
  if (a['metrics-listen'] !== undefined) g.metricsListen = a['metrics-listen'];
  if (a['backup-password-file'] !== undefined) g.backupPasswordFile = a['backup-password-file'];
  if (a['vfs-store-roots'] !== undefined) g.vfsStoreRoots = a['vfs-store-roots'].flatMap((d) => d.split(',')).filter((d) => d !== '');
  const config = validateConfig({ ...DEFAULTS, ...g, driverOpts: { ...DEFAULTS.driverOpts, ...g.driverOpts } });
  // Convoy's per-command timeout: each step here has its own, so it is taken (scripts keep working) and said to be ignored.
  if (a['cmd-timeout'] !== undefined) warnings.push("--cmd-timeout: Rancher Convoy's flag, taken but without effect here");
  return { config, given: g, reconfigure: a.reconfigure === true, warnings };
}
