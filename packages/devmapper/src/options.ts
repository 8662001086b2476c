import path from 'node:path';
import type { DmApi } from './dm-api.js';
import { invalidArgument } from './errors.js';
import type { HostOps } from './host-ops.js';
import { SUPPORTED_FS } from './host-ops.js';
import { parseSize } from '@convoy/rules';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Steps where a test may stop an operation as if the process died there (see `faults`). */
export type FaultStep =
  | 'create:journaled'
  | 'create:thin-created'
  | 'snapshot:journaled'
  | 'snapshot:suspended'
  | 'snapshot:created'
  | 'delete:journaled'
  | 'delete:deleted'
  | 'mount:recorded'
  | 'mount:mounted'
  | 'restore:created'
  | 'restore:written'
  | 'rollback:journaled'
  | 'rollback:created'
  | 'rollback:switched';

export interface DevmapperDriverOptions {
  /** The driver's directory: state.json, loop files (when no devices are given), mount points. */
  root: string;
  /** dm.datadev: the pool's data block device. Without it, `<root>/data` (a sparse loop file). */
  dataDevice?: string;
  /** dm.metadatadev: the pool's metadata block device. Without it, `<root>/metadata` (a loop file). */
  metadataDevice?: string;
  /** dm.thinpoolname (default "convoy-pool"). */
  thinPoolName?: string;
  /** dm.blocksize: the pool's data block size in bytes (default 2 MiB; 64 KiB … 1 GiB, a multiple of 64 KiB). */
  blockSize?: number;
  /** dm.defaultvolumesize (default 100 GiB). */
  defaultVolumeSize?: number;
  /** dm.fs (default ext4). */
  fs?: string;
  /** dm.loopdatasize: size of a new `<root>/data` loop file (default 100 GiB, sparse). */
  loopDataSize?: number;
  /** dm.loopmetadatasize: size of a new `<root>/metadata` loop file (default 2 GiB, sparse). */
  loopMetadataSize?: number;
  /** Where volumes are mounted when mount() is given no mountpoint (default `<root>/mounts`). */
  mountRoot?: string;
  /** The device-mapper port (default: libdevmapper through koffi). */
  dm?: DmApi;
  /** Host tools port (default: LinuxHostOps). */
  host?: HostOps;
  now?: () => Date;
  /** Warnings and notices (reconciliation on start, orphans removed, …). */
  log?: (level: 'info' | 'warn', message: string) => void;
  /**
   * Tests only: called at named steps of multi-step operations. A promise that never settles
   * freezes the operation there, as if the process had died; a new driver on the same root then
   * has to reconcile.
   */
  faults?: (step: FaultStep) => void | Promise<void>;
}

export interface ResolvedOptions {
  root: string;
  dataDevice: string | undefined;
  metadataDevice: string | undefined;
  thinPoolName: string;
  blockSize: number;
  defaultVolumeSize: number;
  fs: string;
  loopDataSize: number;
  loopMetadataSize: number;
  mountRoot: string;
}

export function resolveOptions(o: DevmapperDriverOptions): ResolvedOptions {
  if (!path.isAbsolute(o.root)) throw invalidArgument(`the driver root must be an absolute path, got ${o.root}`);
  const blockSize = o.blockSize ?? 2 * MiB;
  if (!Number.isSafeInteger(blockSize) || blockSize < 64 * 1024 || blockSize > GiB || blockSize % (64 * 1024) !== 0) {
    throw invalidArgument(
      `dm.blocksize ${blockSize} is not a multiple of 64 KiB between 64 KiB and 1 GiB`,
      'the default, 2M, matches the backup block size',
    );
  }
  const name = o.thinPoolName ?? 'convoy-pool';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/.test(name))
    throw invalidArgument(`dm.thinpoolname "${name}" is not a valid device name`, 'use letters, digits, and . _ + -');
  const fs = o.fs ?? 'ext4';
  if (!(SUPPORTED_FS as readonly string[]).includes(fs))
    throw invalidArgument(`dm.fs ${fs} is not supported`, `use one of ${SUPPORTED_FS.join(', ')}`);
  return {
    root: o.root,
    dataDevice: o.dataDevice,
    metadataDevice: o.metadataDevice,
    thinPoolName: name,
    blockSize,
    defaultVolumeSize: o.defaultVolumeSize ?? 100 * GiB,
    fs,
    loopDataSize: o.loopDataSize ?? 100 * GiB,
    loopMetadataSize: o.loopMetadataSize ?? 2 * GiB,
    mountRoot: o.mountRoot ?? path.join(o.root, 'mounts'),
  };
}

/** Every devicemapper driver option, as Convoy spelled them (dm.thinpoolblocksize is dm.blocksize). */
export const DEVMAPPER_OPTION_KEYS: readonly string[] = [
  'dm.datadev',
  'dm.metadatadev',
  'dm.thinpoolname',
  'dm.blocksize',
  'dm.thinpoolblocksize',
  'dm.defaultvolumesize',
  'dm.fs',
  'dm.loopdatasize',
  'dm.loopmetadatasize',
  'dm.root',
];

/**
 * Convoy's `--driver-opts` for devicemapper (`dm.datadev=/dev/sdb`, `dm.blocksize=4096`, …) as
 * options. dm.blocksize accepts Convoy's unit (a plain number is 512-byte sectors: 4096 = 2 MiB)
 * or a size with a unit (`2M`, `64K`).
 */
export function optionsFromDriverOpts(root: string, opts: Readonly<Record<string, string>>): DevmapperDriverOptions {
  const out: DevmapperDriverOptions = { root };
  for (const [key, value] of Object.entries(opts)) {
    switch (key) {
      case 'dm.root': // where the driver keeps its state: resolved by the caller into `root`
        break;
      case 'dm.datadev':
        out.dataDevice = value;
        break;
      case 'dm.metadatadev':
        out.metadataDevice = value;
        break;
      case 'dm.thinpoolname':
        out.thinPoolName = value;
        break;
      case 'dm.blocksize':
      case 'dm.thinpoolblocksize': // Convoy's name for it
        out.blockSize = /^\d+$/.test(value.trim()) ? Number(value) * 512 : parseSize(value, key);
        break;
      case 'dm.defaultvolumesize':
        out.defaultVolumeSize = parseSize(value, key);
        break;
      case 'dm.fs':
        out.fs = value;
        break;
      case 'dm.loopdatasize':
        out.loopDataSize = parseSize(value, key);
        break;
      case 'dm.loopmetadatasize':
        out.loopMetadataSize = parseSize(value, key);
        break;
      default:
        if (key.startsWith('dm.')) {
          throw invalidArgument(`unknown devicemapper option ${key}`, `known: ${DEVMAPPER_OPTION_KEYS.join(', ')}`);
        }
    }
  }
  if ((out.dataDevice === undefined) !== (out.metadataDevice === undefined)) {
    throw invalidArgument(
      'dm.datadev and dm.metadatadev go together',
      'give both block devices, or neither to use loop files under the root',
    );
  }
  return out;
}
