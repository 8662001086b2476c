// What a volume is made from: `docker volume create -o KEY=…` and `convoy create --opt KEY=… /
// --size / --backup / --snapshot / --driver`, checked before anything is made.
import { backupDriver, type StoreOpener } from './backups.js';
import { invalidRequest, type VolumeError } from './errors.js';
import type { CreateOptions, ManagedSnapshot } from './types.js';

/** Every volume option: no driver takes others. */
export const VOLUME_OPTION_KEYS: readonly string[] = ['backup', 'driver', 'size', 'snapshot'];

/** The options of a create, the named fields over the `-o` ones. */
export interface VolumeOptions {
  driver?: string;
  size?: string | number;
  backup?: string;
  snapshot?: string;
}

/**
 * The create's options: an option no one reads (a typo such as `bakup=URL` would otherwise make an
 * empty volume) is refused naming every key there is, and so is a backup with a snapshot.
 */
export function volumeOptions(o: CreateOptions): VolumeOptions {
  const opts = o.options ?? {};
  const unknown = Object.keys(opts).filter((k) => !VOLUME_OPTION_KEYS.includes(k));
  if (unknown.length > 0)
    throw invalidRequest(
      `unknown volume option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k.slice(0, 60))).join(', ')}`,
      `volume options are: ${VOLUME_OPTION_KEYS.join(', ')} (e.g. -o size=10G, -o backup=URL, -o snapshot=SNAP)`,
    );
  const out: VolumeOptions = {};
  const driver = o.driver ?? opts.driver;
  const size = o.size ?? opts.size;
  const backup = o.backup ?? opts.backup;
  const snapshot = o.snapshot ?? opts.snapshot;
  if (driver !== undefined) out.driver = driver;
  if (size !== undefined) out.size = size;
  if (backup !== undefined) out.backup = backup;
  if (snapshot !== undefined) out.snapshot = snapshot;
  if (backup !== undefined && snapshot !== undefined)
    throw invalidRequest('a volume is made from a backup or from a snapshot, not both', 'give either backup or snapshot');
  return out;
}

/** The driver of a create: the snapshot's when made from one (another one named is refused), else the one named. */
export function sourceDriver(opts: VolumeOptions, from: ManagedSnapshot | undefined): string | undefined {
  if (from === undefined) return opts.driver;
  if (opts.driver !== undefined && opts.driver !== from.driver)
    throw invalidRequest(
      `snapshot ${from.name} is a ${from.driver} snapshot: a volume made from it is a ${from.driver} volume, not ${opts.driver}`,
      `leave out the driver, or back the snapshot up and create the ${opts.driver} volume from the backup`,
    );
  return from.driver;
}

/** The driver of a new volume: named, its snapshot's, its backup's (backupDriver), or the default. */
export async function chooseDriver(
  opts: VolumeOptions,
  from: ManagedSnapshot | undefined,
  configured: readonly string[],
  fallback: string,
  open: StoreOpener | undefined,
): Promise<string> {
  const named = sourceDriver(opts, from);
  if (named !== undefined || opts.backup === undefined) return named ?? fallback;
  return backupDriver(opts.backup, configured, fallback, open);
}

export const cannotRollBack = (s: ManagedSnapshot): VolumeError =>
  invalidRequest(
    `the ${s.driver} driver cannot roll a volume back to a snapshot`,
    `make a new volume from it instead: convoy create NEW --snapshot ${s.name}`,
  );

/**
 * A backup's labels: the user's, and what Rancher Convoy's backup records carried (snapshot and
 * volume creation times, volume UUID; the drivers add their name as `driver`), so that `backup inspect` shows them.
 */
export function backupLabels(s: ManagedSnapshot, user: Record<string, string> | undefined): Record<string, string> {
  return {
    ...user,
    'convoy.snapshot-created': s.createdAt,
    ...(s.volumeUuid === undefined ? {} : { 'convoy.volume-uuid': s.volumeUuid }),
    ...(s.volumeCreatedAt === undefined ? {} : { 'convoy.volume-created': s.volumeCreatedAt }),
  };
}
