import os from 'node:os';
import path from 'node:path';
import { VfsDriver } from '@convoy/vfs';
import type { VolumeDriver } from '@convoy/volume-driver';
import { DEVMAPPER_OPTION_KEYS, DevmapperVolumeDriver } from '@convoy/devmapper';
import { parseSize } from '@convoy/rules';
import { invalidRequest } from './errors.js';

export interface DriverConfig {
  /** The daemon's --root: drivers keep local state below it. */
  root: string;
  /** --driver-opts as key=value pairs (vfs.path, dm.thinpoolname, …). */
  options: Record<string, string>;
  hostId?: string;
  /** Notices and warnings of a driver (devicemapper: an adopted Rancher Convoy pool, reconciliation on start). */
  log?: (driver: string, level: 'info' | 'warn', message: string) => void;
}

/** Where a driver keeps its volumes: vfs.path (default `<root>/vfs`), devicemapper's state and loop files in `<root>/devicemapper`. */
export function driverLocation(name: string, config: Pick<DriverConfig, 'root' | 'options'>): string {
  if (name === 'vfs') return config.options['vfs.path'] ?? path.join(config.root, 'vfs');
  if (name === 'devicemapper') return config.options['dm.root'] ?? path.join(config.root, 'devicemapper');
  return path.join(config.root, name);
}

/**
 * vfs.shared: whether other hosts mount the same vfs.path (NFS, GlusterFS): Docker is then told
 * the volumes are `global`. Off by default, as in Convoy, whose vfs said `local`.
 */
function sharedOption(value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw invalidRequest(
    `vfs.shared must be true or false, not ${JSON.stringify(value.slice(0, 40))}`,
    'vfs.shared=true when other hosts mount the same vfs.path',
  );
}

function sizeOption(value: string): number {
  try {
    return parseSize(value, 'vfs.defaultvolumesize');
  } catch {
    throw invalidRequest(`vfs.defaultvolumesize is not a size: ${JSON.stringify(value.slice(0, 40))}`, 'e.g. vfs.defaultvolumesize=10G');
  }
}

/** Every vfs driver option (Convoy's names; vfs.shared is ours). */
export const VFS_OPTION_KEYS: readonly string[] = ['vfs.path', 'vfs.shared', 'vfs.defaultvolumesize'];

/** Refuses a driver option no driver knows (a typo would otherwise be ignored), naming every key there is. */
export function checkDriverOptions(options: Readonly<Record<string, string>>): void {
  const known = [...VFS_OPTION_KEYS, ...DEVMAPPER_OPTION_KEYS];
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0)
    throw invalidRequest(
      `unknown driver option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k.slice(0, 60))).join(', ')}`,
      `driver options are: ${known.join(', ')}`,
    );
}

/** Builds a driver by name from the daemon's options (Convoy's option names). */
export function createDriver(name: string, config: DriverConfig): VolumeDriver {
  checkDriverOptions(config.options);
  switch (name) {
    case 'vfs': {
      const size = config.options['vfs.defaultvolumesize'];
      return new VfsDriver({
        basePath: driverLocation('vfs', config),
        hostId: config.hostId ?? os.hostname(),
        shared: sharedOption(config.options['vfs.shared']),
        ...(size === undefined ? {} : { defaultVolumeSize: sizeOption(size) }),
      });
    }
    case 'devicemapper':
      return DevmapperVolumeDriver.fromDriverOpts(driverLocation('devicemapper', config), config.options, {
        log: (level, message) => config.log?.('devicemapper', level, message),
      });
    default:
      throw invalidRequest(`unknown driver "${name}"`, 'known drivers: vfs, devicemapper');
  }
}
