/**
 * The registry of every error code Convoy can raise: each is listed once, here, with what it
 * means, its category, and the hint shown when the place that raises it has nothing more
 * specific to say. The category decides the HTTP status of the daemon's answers and the exit code
 * of the CLIs (categories.ts); a code may override the status (413 for bodies too large).
 * docs/errors.md is generated from this table (`npm run -s docs:errors`).
 */
import type { ErrorCategory } from './categories.js';

export interface ErrorCodeSpec {
  readonly category: ErrorCategory;
  /** One sentence: what happened. */
  readonly meaning: string;
  /** What to do about it, when the raiser gives no better hint. */
  readonly hint?: string;
  /** An HTTP status other than the category's. */
  readonly status?: number;
}

const REPORT = 'this is a bug in Convoy; please report it with the command you ran and the daemon log';

export const ERROR_CODES = {
  // ── usage: the request or command line asks for something invalid ──────────────────────────
  CONVOY_USAGE: {
    category: 'usage',
    meaning: 'The command line is wrong: an unknown command or flag, or a missing or bad argument.',
    hint: 'see --help',
  },
  CONVOY_INVALID_ARGUMENT: {
    category: 'usage',
    meaning: 'An argument or option has a value that is not allowed.',
    hint: 'see --help for the accepted values',
  },
  CONVOY_INVALID_REQUEST: {
    category: 'usage',
    meaning: 'A control-API request is malformed: its path, query or body does not follow docs/control-api.md.',
    hint: 'request paths are /v1/… with names percent-encoded; see docs/control-api.md',
  },
  CONVOY_UNKNOWN_ROUTE: {
    category: 'not-found',
    meaning: 'No control-API route has this method and path.',
    hint: 'see docs/control-api.md for the routes; the CLI and the daemon may be of different versions',
  },
  CONVOY_REQUEST_TOO_LARGE: {
    category: 'usage',
    status: 413,
    meaning: 'A control-API request or answer body is larger than the limit.',
    hint: 'send a smaller body',
  },
  CONVOY_REQUEST_TIMEOUT: {
    category: 'usage',
    status: 408,
    meaning: 'A control-API request was not received completely in time (the client stopped sending).',
    hint: 'send the whole request at once; the daemon waits 5 minutes at most for one',
  },
  CONVOY_VOLUME_NAME_INVALID: {
    category: 'usage',
    meaning: 'A volume name breaks the naming rule.',
    hint: 'names are 1–128 characters from [A-Za-z0-9_.-], start with a letter or digit, and hold no ..',
  },
  CONVOY_SNAPSHOT_NAME_INVALID: {
    category: 'usage',
    meaning: 'A snapshot name breaks the naming rule.',
    hint: 'names are 1–128 characters from [A-Za-z0-9_.-], start with a letter or digit, and hold no ..',
  },
  CONVOY_SIZE_INVALID: {
    category: 'usage',
    meaning: 'A size is not a positive number of bytes or a number with a binary unit.',
    hint: 'write a size as bytes or with a unit: 512M, 10G, 10GiB, 1T',
  },
  CONVOY_STORE_URL_INVALID: {
    category: 'usage',
    meaning: 'A backup store URL cannot be parsed or names an unsupported scheme.',
    hint: 'use s3://bucket[@region]/path or vfs:///absolute/path',
  },
  CONVOY_OBJECT_KEY_INVALID: {
    category: 'usage',
    meaning: 'An object key is empty, absolute, holds a . or .. segment, a backslash or a control character.',
    hint: REPORT,
  },
  CONVOY_OBJECT_RANGE_INVALID: { category: 'usage', meaning: 'A ranged read asks for bytes outside the object.', hint: REPORT },
  CONVOY_TARGET_INVALID: {
    category: 'usage',
    meaning: 'A restore target is neither a file nor a block device, or does not suit the options.',
    hint: 'restore into a regular file or a block device',
  },
  CONVOY_FORMAT_UNSUPPORTED: {
    category: 'conflict',
    meaning: 'A store, record or option uses a format version this build does not support.',
    hint: 'upgrade Convoy, or use the version that wrote it',
  },
  CONVOY_PASSWORD_REQUIRED: {
    category: 'usage',
    meaning: 'The backup store is encrypted and no passphrase was given.',
    hint: 'set CONVOY_PASSWORD, pass --password-file FILE, or run it on a terminal to be asked',
  },
  CONVOY_PASSWORD_WRONG: {
    category: 'usage',
    meaning: 'No key of the encrypted backup store opens with the passphrase given.',
    hint: "check the passphrase (CONVOY_PASSWORD or --password-file); `convoy-backup key list STORE` shows the store's keys",
  },
  CONVOY_BACKUP_INCOMPATIBLE: {
    category: 'usage',
    meaning: 'A backup holds another kind of data than the driver restores (a block image into a directory volume, or the reverse).',
    hint: 'restore it with the driver that took it, or with convoy-backup restore into a file',
  },
  CONVOY_RANCHER_BACKUP_READ_ONLY: {
    category: 'usage',
    meaning: 'A Rancher Convoy v0.5.2 backup URL was given to a command that handles only our own backups (inspect, delete, ls).',
    hint: 'Rancher Convoy backups are listed (`convoy-backup list STORE`) and restored (`convoy-backup restore URL TARGET`, `convoy create NAME --backup URL`)',
  },
  CONVOY_PLUGIN_REQUEST_INVALID: {
    category: 'usage',
    meaning: "A Docker plugin request's body is not valid for its endpoint.",
    hint: "the request must follow Docker's VolumeDriver protocol",
  },
  CONVOY_PLUGIN_REQUEST_TOO_LARGE: {
    category: 'usage',
    status: 413,
    meaning: 'A Docker plugin request body is larger than the limit.',
    hint: 'plugin requests are small JSON bodies',
  },
  CONVOY_PLUGIN_ENDPOINT_UNKNOWN: {
    category: 'not-found',
    meaning: 'No Docker plugin endpoint has this path.',
    hint: 'the endpoints are /Plugin.Activate and /VolumeDriver.*',
  },
  CONVOY_SOCKET_PATH_INVALID: {
    category: 'usage',
    meaning: 'A socket path (plugin or control) is not usable (relative, too long for a Unix socket, or in a missing directory).',
    hint: 'use an absolute path of at most 107 bytes',
  },
  CONVOY_CONFIG_INVALID: {
    category: 'usage',
    meaning: "The daemon's configuration (flags, config file or driver options) is invalid.",
    hint: 'see convoy-daemon --help and deploy/convoy.json',
  },
  CONVOY_CONFIG_CONFLICT: {
    category: 'usage',
    meaning:
      'The flags or config file of a daemon start change which volumes it sees (drivers, a driver option such as vfs.path, the host id) against the configuration saved under its --root.',
    hint: 'start without the changed value to keep the saved configuration, or once with --reconfigure to replace it',
  },
  // ── not found ────────────────────────────────────────────────────────────────────────────────
  CONVOY_VOLUME_NOT_FOUND: { category: 'not-found', meaning: 'No volume has this name.', hint: 'run `convoy list` to see the volumes' },
  CONVOY_SNAPSHOT_NOT_FOUND: {
    category: 'not-found',
    meaning: 'No snapshot has this name.',
    hint: 'run `convoy snapshot list` (or `convoy inspect VOLUME`) to see the snapshots',
  },
  CONVOY_SCHEDULE_NOT_FOUND: {
    category: 'not-found',
    meaning: 'The volume has no backup schedule.',
    hint: 'run `convoy backup schedules` to see the schedules',
  },
  CONVOY_BACKUP_NOT_FOUND: {
    category: 'not-found',
    meaning: 'The store holds no backup with this id or URL.',
    hint: 'run `convoy-backup list STORE` to see the backups',
  },
  CONVOY_BACKUP_PATH_NOT_FOUND: {
    category: 'not-found',
    meaning: 'A directory backup holds no file or directory at the path asked for (restore --path, ls PATH).',
    hint: 'run `convoy-backup ls URL` to see the paths the backup holds (relative to the backed-up directory)',
  },
  CONVOY_STORE_NOT_FOUND: {
    category: 'not-found',
    meaning: 'The backup store (bucket or directory) does not exist.',
    hint: 'check the URL; vfs:// stores need an existing directory, s3:// an existing bucket',
  },
  CONVOY_STORE_EMPTY: {
    category: 'not-found',
    meaning: 'The store location exists but holds no Convoy backups.',
    hint: 'check the URL; a store is initialised by its first backup',
  },
  CONVOY_KEY_NOT_FOUND: {
    category: 'not-found',
    meaning: 'The encrypted store has no key with that id.',
    hint: 'see `convoy-backup key list STORE`',
  },
  CONVOY_OBJECT_NOT_FOUND: {
    category: 'not-found',
    meaning: 'An object the operation needs is absent from the store.',
    hint: 'run `convoy-backup verify STORE` to see what is missing',
  },
  CONVOY_DAEMON_NOT_FOUND: {
    category: 'not-found',
    meaning: 'The convoy-daemon program cannot be found.',
    hint: 'build it, or set CONVOY_DAEMON_BIN',
  },
  CONVOY_POOL_UNKNOWN: {
    category: 'not-found',
    meaning: "The thin pool's metadata device holds a pool that the daemon's state does not describe.",
    hint: 'start with the root that created this pool',
  },
  // ── conflict: the state forbids it now ──────────────────────────────────────────────────────
  CONVOY_VOLUME_EXISTS: {
    category: 'conflict',
    meaning: 'A volume with this name exists already.',
    hint: 'choose another name, or delete the volume first',
  },
  CONVOY_SNAPSHOT_EXISTS: { category: 'conflict', meaning: 'A snapshot with this name exists already.', hint: 'choose another name' },
  CONVOY_BACKUP_EXISTS: {
    category: 'conflict',
    meaning: 'A backup with this id exists already.',
    hint: 'run the command again: a new id is drawn',
  },
  CONVOY_OBJECT_EXISTS: {
    category: 'conflict',
    meaning: 'A write that must create an object found it there already.',
    hint: 'another writer got there first; run the command again',
  },
  CONVOY_STORE_EXISTS: {
    category: 'conflict',
    meaning: 'The store is initialised already (it has a header).',
    hint: 'use the store as it is; encryption is chosen when a store is created, so start a new store to change it',
  },
  CONVOY_KEY_IN_USE: {
    category: 'conflict',
    meaning: 'The key asked to be removed is the one the store was opened with.',
    hint: 'open the store with another of its passphrases to remove this key, or use `convoy-backup key change`',
  },
  CONVOY_VOLUME_IN_USE: {
    category: 'conflict',
    meaning: 'The volume is mounted or used by a container, here or on another host.',
    hint: 'stop the containers that use it, then try again',
  },
  CONVOY_VOLUME_REFERENCED: {
    category: 'conflict',
    meaning: 'Docker on some host still holds a reference to the volume.',
    hint: 'run `docker volume rm` for it on that host first',
  },
  CONVOY_VOLUME_DELETED: {
    category: 'not-found',
    meaning: 'The volume was deleted by another host; this host holds a stale reference.',
    hint: 'run `docker volume rm -f NAME` here to drop the stale reference',
  },
  CONVOY_VOLUME_INCOMPLETE: {
    category: 'conflict',
    meaning: 'The volume is still being created (or its creation was interrupted) and cannot be used yet.',
    hint: 'wait for the create to finish; if the host that began it died, delete the volume and create it again',
  },
  CONVOY_VOLUME_DELETING: {
    category: 'conflict',
    meaning: 'Another host sharing the vfs path is deleting the volume right now, so it cannot be mounted.',
    hint: 'try again: if that delete is refused (the volume is in use), the volume stays; if that host stopped for good, remove its file under <vfs.path>/meta/deleting/',
  },
  CONVOY_VFS_ADOPT_CONFLICT: {
    category: 'conflict',
    meaning:
      "A Rancher Convoy v0.5.2 volume on the vfs path is named as one of the vfs driver's own directories (meta, data, snapshots, trash): the driver does not start there, so it never mistakes that volume's files for its own.",
    hint: "move that volume's files and its config/vfs_volume_<name>.json out of the vfs path (or back it up with Rancher Convoy and delete it there), then start again",
  },
  CONVOY_VOLUME_CONFLICT: {
    category: 'conflict',
    meaning:
      'Two volumes of one name were created at the same moment on a shared vfs path; the record of one was kept aside under meta/displaced/.',
    hint: 'see which of them holds the data you want (the uuid in each record names its data directory), delete the other, and move the kept record back to meta/volumes/',
  },
  CONVOY_SNAPSHOT_INCOMPLETE: {
    category: 'conflict',
    meaning: 'The snapshot is still being taken (or the host taking it stopped before finishing) and cannot be backed up yet.',
    hint: 'wait for it to finish; if the host that began it died, delete the snapshot and take it again',
  },
  CONVOY_SNAPSHOT_IN_USE: {
    category: 'conflict',
    meaning: 'The snapshot is being backed up or otherwise used.',
    hint: 'wait for the backup to finish',
  },
  CONVOY_STORE_LOCKED: {
    category: 'conflict',
    meaning: 'Another process holds the store lease this operation needs.',
    hint: 'wait for the other operation to finish; a lease of a dead process expires by itself',
  },
  CONVOY_LOCK_LOST: {
    category: 'conflict',
    meaning: 'The store lease was lost during the operation (not refreshed in time), so it stopped before committing.',
    hint: 'run the command again; check for long pauses or clock jumps on this host',
  },
  CONVOY_CONFLICT: {
    category: 'conflict',
    meaning: 'The daemon answered 409 Conflict without a Convoy error body.',
    hint: 'run the command again',
  },
  CONVOY_SOCKET_IN_USE: {
    category: 'conflict',
    meaning: 'Another process is listening on the socket (plugin or control).',
    hint: 'stop the other convoy-daemon, or use another --socket',
  },
  CONVOY_POOL_MISMATCH: {
    category: 'conflict',
    meaning: "The thin pool's state belongs to a pool of another name or block size than configured.",
    hint: 'start with the pool name and block size that created it, or use another root',
  },
  CONVOY_ADOPT_REFUSED: {
    category: 'conflict',
    meaning:
      "The devicemapper driver found a Rancher Convoy v0.5.2 installation under its root (devicemapper.cfg) but cannot take it over as it is: its records and the pool disagree, a volume is in use, a record is unreadable, or an option contradicts Convoy's pool. Nothing was changed.",
    hint: 'do what the message says (unmount the volume, fix or remove the named record), then start the daemon again',
  },
  CONVOY_POOL_METADATA_FOREIGN: {
    category: 'conflict',
    meaning: 'The thin-pool metadata device holds data that is not a thin pool.',
    hint: 'if it may be overwritten, zero its first 4 KiB and start again',
  },
  CONVOY_SOURCE_CHANGED: {
    category: 'conflict',
    meaning: 'The file being backed up changed size while it was read.',
    hint: 'back up a snapshot, not a file that is being written',
  },
  // ── corrupt: stored data is damaged ─────────────────────────────────────────────────────────
  CONVOY_RECORD_CORRUPT: {
    category: 'corrupt',
    meaning: 'A volume, lease or reference record on disk is not valid; it is never read as absent.',
    hint: 'inspect the named file; restore it from a copy, or remove it if the volume it describes is gone',
  },
  CONVOY_RANCHER_RECORD_CORRUPT: {
    category: 'corrupt',
    meaning:
      "A Rancher Convoy v0.5.2 store's volume.cfg or backup_<name>.cfg is not the JSON record Convoy wrote; it is never read as absent.",
    hint: 'inspect the named object; restore it from a copy of the store, or remove that backup with Rancher Convoy',
  },
  CONVOY_RANCHER_ARCHIVE_CORRUPT: {
    category: 'corrupt',
    meaning: "A Rancher Convoy v0.5.2 vfs backup's .bak file is not a complete gzip-compressed tar archive.",
    hint: 'the backup is damaged: restore from another backup; the target is incomplete',
  },
  CONVOY_RANCHER_BLOCK_MISSING: {
    category: 'corrupt',
    meaning:
      'A block object a Rancher Convoy v0.5.2 devicemapper (deltablock) backup lists (blocks/<c[0:2]>/<c[2:4]>/<c>.blk) is absent from the store; it is never restored as zeros.',
    hint: 'the store lost that object: restore another backup of the volume (each lists every block it needs); the target is incomplete',
  },
  CONVOY_RANCHER_BLOCK_CORRUPT: {
    category: 'corrupt',
    meaning:
      'A Rancher Convoy v0.5.2 deltablock block object is not the gzip of 2 MiB whose checksum (the first 64 hex digits of its SHA-512) is the one the backup lists.',
    hint: 'the object was damaged in the store: restore another backup of the volume; the target is incomplete',
  },
  CONVOY_RANCHER_ARCHIVE_UNSAFE: {
    category: 'corrupt',
    meaning:
      "A Rancher Convoy v0.5.2 vfs backup's archive holds an entry that would land outside the restore target (absolute, .., through a symlink, a link leaving the tree) or of a type not restored; nothing is written for it.",
    hint: 'the archive was crafted or damaged: restore from another backup, and find out who can write to the store',
  },
  CONVOY_STATE_INVALID: {
    category: 'corrupt',
    meaning: 'A daemon state file (mounts, thin-pool state) is damaged.',
    hint: 'inspect the named file; the daemon does not start on a damaged state file',
  },
  CONVOY_MOUNT_STATE_INVALID: {
    category: 'corrupt',
    meaning: 'The saved mount reference state is not an object mapping volume names to lists of caller ids.',
    hint: 'inspect the named state file',
  },
  CONVOY_FORMAT_INVALID: {
    category: 'corrupt',
    meaning: 'The store header is damaged.',
    hint: 'run `convoy-backup verify STORE`; restore the header from a copy of the store',
  },
  CONVOY_MANIFEST_INVALID: {
    category: 'corrupt',
    meaning: 'A backup manifest or block map is damaged.',
    hint: 'run `convoy-backup verify STORE` to list the damaged backups',
  },
  CONVOY_INDEX_CORRUPT: {
    category: 'corrupt',
    meaning: "A part of the store's reference index (generation, run, pointer, marker or sweep record) is damaged.",
    hint: 'run `convoy-backup maintenance STORE --rebuild-index`',
  },
  CONVOY_BLOCK_CORRUPT: {
    category: 'corrupt',
    meaning: 'A block does not match its checksum, or cannot be decompressed.',
    hint: 'run `convoy-backup verify STORE --read-data`, then `convoy-backup repair` from a source that still holds the data',
  },
  CONVOY_BLOCK_MISSING: {
    category: 'corrupt',
    meaning: 'A block a backup needs is absent from the store.',
    hint: 'run `convoy-backup verify STORE`, then `convoy-backup repair` from a source that still holds the data',
  },
  CONVOY_OBJECT_TAMPERED: {
    category: 'corrupt',
    meaning: 'An object of an encrypted store fails authentication: it was modified, truncated, or written with another key.',
    hint: 'run `convoy-backup verify STORE --read-data` to find every affected backup',
  },
  CONVOY_FILEINDEX_CORRUPT: {
    category: 'corrupt',
    meaning:
      "A directory backup's file index (its root or a segment) is damaged: a checksum, count, order, parent or schema does not hold; it is never read as fewer files.",
    hint: 'run `convoy-backup verify STORE`; restore from another backup',
  },
  CONVOY_FILEINDEX_UNSAFE_PATH: {
    category: 'corrupt',
    meaning:
      "A directory backup's file index holds a path that would escape the restore target (absolute, .., empty component, NUL); nothing is written for it.",
    hint: 'the index was crafted or damaged: restore from another backup, and find out who can write to the store',
  },
  CONVOY_THIN_DELTA_INVALID: {
    category: 'corrupt',
    meaning: "thin_delta's output does not describe the pool as configured.",
    hint: 'run a full backup (without a change list)',
  },
  CONVOY_PLUGIN_RESPONSE_INVALID: {
    category: 'internal',
    meaning: "The volume backend returned an answer that breaks Docker's protocol.",
    hint: REPORT,
  },
  CONVOY_PLUGIN_BACKEND_INVALID: {
    category: 'internal',
    meaning: 'The volume backend returned something the plugin protocol layer cannot send.',
    hint: REPORT,
  },
  CONVOY_DAEMON_BAD_RESPONSE: {
    category: 'internal',
    meaning: "The daemon's answer is not what the control API specifies.",
    hint: 'the CLI and the daemon may be of different versions; run the same version of both',
  },
  // ── unavailable: something outside Convoy cannot serve now ─────────────────────────────────
  CONVOY_DAEMON_UNREACHABLE: {
    category: 'unavailable',
    meaning: 'Nothing answers on the control socket.',
    hint: 'start it with `convoy daemon`, or name its socket with --socket',
  },
  CONVOY_DAEMON_ACCESS_DENIED: {
    category: 'unavailable',
    meaning: 'The control socket exists, but this user may not connect to it.',
    hint: 'run as root, or as a member of the group the daemon gives its socket (--socket-group)',
  },
  CONVOY_DAEMON_CONNECTION_LOST: {
    category: 'unavailable',
    meaning: 'The daemon closed the connection before answering.',
    hint: 'see the daemon log; run the command again once it is up',
  },
  CONVOY_DAEMON_TIMEOUT: {
    category: 'unavailable',
    meaning: 'The daemon did not answer in time.',
    hint: 'see the daemon log; raise the timeout for long operations',
  },
  CONVOY_DAEMON_ERROR: {
    category: 'internal',
    meaning: 'The daemon answered with an HTTP error and no Convoy error body.',
    hint: 'see the daemon log',
  },
  CONVOY_DAEMON_START_FAILED: {
    category: 'unavailable',
    meaning: 'The CLI could not start convoy-daemon.',
    hint: 'check the path and its permissions, or set CONVOY_DAEMON_BIN',
  },
  CONVOY_PLUGIN_TIMEOUT: {
    category: 'unavailable',
    meaning: 'A Docker plugin request took longer than its deadline.',
    hint: 'see the daemon log for the operation that is slow',
  },
  CONVOY_STORE_WRITE_LOST: {
    category: 'unavailable',
    meaning:
      'The object store acknowledged a write and does not hold the object (a lying server, or a broken proxy or cache in front of it); nothing that depends on it was committed.',
    hint: 'check the store and whatever sits between it and Convoy, then run the command again (what is missing is written again)',
  },
  CONVOY_OBJECTSTORE_FAILED: {
    category: 'unavailable',
    meaning: 'The object store failed a request (after retries): a network error, a refused credential, or a server error.',
    hint: 'check the endpoint, the credentials and the network, then run the command again',
  },
  CONVOY_OBJECTSTORE_UNSUPPORTED: {
    category: 'internal',
    meaning: 'An object-store operation was asked for that this store cannot do (a conditional multipart write).',
    hint: REPORT,
  },
  CONVOY_DM_UNAVAILABLE: {
    category: 'unavailable',
    meaning: 'device-mapper cannot be used here (no dm_thin_pool module, no /dev/mapper, not root).',
    hint: 'load dm_thin_pool, run as root, and give containers /dev and CAP_SYS_ADMIN',
  },
  CONVOY_TOOL_MISSING: {
    category: 'unavailable',
    meaning: 'A program Convoy runs (dmsetup, thin_delta, mkfs, tar, …) is not installed.',
    hint: 'install it (Debian: thin-provisioning-tools, dmsetup from lvm2, e2fsprogs)',
  },
  CONVOY_DRIVER_NOT_STARTED: {
    category: 'unavailable',
    meaning: 'The volume driver asked for failed to start.',
    hint: 'see the daemon log for why it failed to start',
  },
  CONVOY_POOL_FULL: {
    category: 'unavailable',
    meaning: 'The thin pool has no free data or metadata space.',
    hint: 'delete snapshots or volumes, or grow the pool',
  },
  CONVOY_DEVICE_SIZE_UNKNOWN: {
    category: 'unavailable',
    meaning: 'The size of a block device cannot be read.',
    hint: 'sysfs must be mounted at /sys (in a container too)',
  },
  // ── failed: the operation failed for an outside reason ─────────────────────────────────────
  CONVOY_COMMAND_FAILED: {
    category: 'failed',
    meaning: 'A program Convoy ran (mount, mkfs, tar, …) exited with an error.',
    hint: 'see the message for its output',
  },
  CONVOY_DM_FAILED: {
    category: 'failed',
    meaning: 'A device-mapper operation failed.',
    hint: "see the message for dmsetup's output; check `dmsetup status`",
  },
  CONVOY_SOURCE_UNREADABLE: {
    category: 'failed',
    meaning: 'The file or device being backed up cannot be read.',
    hint: 'check the path and its permissions',
  },
  CONVOY_CHANGED_UNREADABLE: {
    category: 'failed',
    meaning: 'The changed-extent list given with --changed cannot be read.',
    hint: 'name a readable file with --changed',
  },
  CONVOY_TARGET_WRITE_FAILED: {
    category: 'failed',
    meaning: 'Writing the restore target failed.',
    hint: 'check free space and permissions of the target',
  },
  CONVOY_RESTORE_INCOMPLETE: {
    category: 'failed',
    meaning: 'A restore failed part-way; the target is incomplete.',
    hint: 'fix the cause and run the restore again; do not use the target until it succeeds',
  },
  CONVOY_TEST_INJECTED_FAULT: {
    category: 'failed',
    meaning: 'A fault the fault-injecting test store raised on purpose (tests only).',
    hint: 'only tests raise it',
  },
  // ── interrupted / internal ─────────────────────────────────────────────────────────────────
  CONVOY_ABORTED: {
    category: 'interrupted',
    meaning: 'The operation was interrupted (Ctrl-C, SIGTERM or a cancelled request) and stopped cleanly.',
    hint: 'run the command again',
  },
  CONVOY_INTERNAL: { category: 'internal', meaning: 'An unexpected error: a bug.', hint: REPORT },
} as const satisfies Record<string, ErrorCodeSpec>;

/** Every registered code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `code` is registered (codes from the wire may come from another version). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The registry entry of a code, or undefined for an unregistered (foreign) one. */
export function errorCodeSpec(code: string): ErrorCodeSpec | undefined {
  return isErrorCode(code) ? ERROR_CODES[code] : undefined;
}
