import os from 'node:os';
import path from 'node:path';
import { VfsDriver } from '@convoy/vfs';
import type { VolumeDriver } from '@convoy/volume-driver';
import { DevmapperVolumeDriver } from '@convoy/devmapper';
import { invalidRequest } from './errors.js';

export interface DriverConfig {
  /** The daemon's --root: drivers keep local state below it. */
  root: string;
  /** --driver-opts as key=value pairs (vfs.path, dm.thinpoolname, …). */
  options: Record<string, string>;
  hostId?: string;
}

/** Where a driver keeps its volumes: vfs.path (default `<root>/vfs`), devicemapper's state and loop files in `<root>/devicemapper`. */
export function driverLocation(name: string, config: Pick<DriverConfig, 'root' | 'options'>): string {
  return name === 'vfs' ? (config.options['vfs.path'] ?? path.join(config.root, 'vfs')) : path.join(config.root, name);
}

/** Builds a driver by name from the daemon's options (Convoy's option names). */
export function createDriver(name: string, config: DriverConfig): VolumeDriver {
  switch (name) {
    case 'vfs':
      return new VfsDriver({
        basePath: driverLocation('vfs', config),
        hostId: config.hostId ?? os.hostname(),
        shared: config.options['vfs.shared'] !== 'false',
      });
    case 'devicemapper':
      return DevmapperVolumeDriver.fromDriverOpts(driverLocation('devicemapper', config), config.options);
    default:
      throw invalidRequest(`unknown driver "${name}"`, 'known drivers: vfs, devicemapper');
  }
}
