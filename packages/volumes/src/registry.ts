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

/** Builds a driver by name from the daemon's options (Convoy's option names). */
export function createDriver(name: string, config: DriverConfig): VolumeDriver {
  switch (name) {
    case 'vfs':
      return new VfsDriver({
        basePath: config.options['vfs.path'] ?? path.join(config.root, 'vfs'),
        hostId: config.hostId ?? os.hostname(),
        shared: config.options['vfs.shared'] !== 'false',
      });
    case 'devicemapper':
      return DevmapperVolumeDriver.fromDriverOpts(path.join(config.root, 'devicemapper'), config.options);
    default:
      throw invalidRequest(`unknown driver "${name}"`, 'known drivers: vfs, devicemapper');
  }
}
