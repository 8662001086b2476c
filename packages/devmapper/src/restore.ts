// Restore into a new thin volume: from one of this Convoy's block-image backups, or from one of
// Rancher Convoy v0.5.2's devicemapper ("deltablock") backups (@convoy/dirbackup reads those). A
// fresh thin device reads as zeros, so only the backup's non-zero blocks are written.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import {
  formatBackupUrl,
  isRancherBackupName,
  readManifest,
  restoreBackup,
  type Manifest,
  type ProgressCallback,
} from '@convoy/blockstore';
import { checkRancherDeltablock, restoreRancherDeltablock } from '@convoy/dirbackup';
import type { ObjectStore } from '@convoy/objectstore';
import { validateVolumeName } from '@convoy/rules';
import { FS_LABEL } from './backup.js';
import type { DriverCore } from './core.js';
import { DevmapperError, invalidArgument } from './errors.js';
import { SUPPORTED_FS } from './host-ops.js';
import { roundUp } from './sizes.js';
import { allocateDeviceId, type VolumeRecord } from './state.js';

export interface DriverRestoreRequest {
  /** Name of the new volume. */
  volume: string;
  uuid?: string;
  /** Bytes; at least the backup's size (default: the backup's size). */
  size?: number;
  store: ObjectStore;
  backupVolume: string;
  /** One of ours, or a Rancher Convoy v0.5.2 backup name (`backup-<16 hex>`). */
  backupId: string;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

const SIZE_ALIGN = 4096;

/** What a restore writes: its size, its filesystem if the backup says, and how to write it onto a zeroed device. */
interface Source {
  size: number;
  fs: string | undefined;
  write(device: string): Promise<void>;
}

function fsOf(m: Manifest): string | undefined {
  const label = m.labels[FS_LABEL];
  return label !== undefined && (SUPPORTED_FS as readonly string[]).includes(label) ? label : undefined;
}

async function convoySource(req: DriverRestoreRequest): Promise<Source> {
  const manifest = await readManifest(req.store, req.backupVolume, req.backupId, req.signal);
  return {
    size: manifest.size,
    fs: fsOf(manifest),
    write: async (device) => {
      await restoreBackup({
        store: req.store,
        volume: req.backupVolume,
        id: req.backupId,
        target: device,
        targetIsZeroed: true,
        concurrency: req.concurrency,
        signal: req.signal,
        onProgress: req.onProgress,
      });
    },
  };
}

/** A Rancher Convoy devicemapper backup: it records no filesystem type; the restored superblock tells. */
async function rancherSource(req: DriverRestoreRequest): Promise<Source> {
  const { size } = await checkRancherDeltablock(req.store, req.backupVolume, req.backupId, req.signal);
  return {
    size,
    fs: undefined,
    write: async (device) => {
      await restoreRancherDeltablock({
        store: req.store,
        volume: req.backupVolume,
        name: req.backupId,
        target: device,
        targetIsZeroed: true,
        concurrency: req.concurrency,
        signal: req.signal,
        onProgress: req.onProgress,
      });
    },
  };
}

/** ext3/ext4 (magic 0xEF53 at byte 1080; extents → ext4) or xfs ("XFSB" at 0) from a device's first 4 KiB. */
export async function detectFilesystem(device: string): Promise<string | undefined> {
  const fh = await fs.open(device, 'r');
  try {
    const b = Buffer.alloc(4096);
    await fh.read(b, 0, b.length, 0);
    if (b.toString('latin1', 0, 4) === 'XFSB') return 'xfs';
    if (b.readUInt16LE(1080) === 0xef53) return (b.readUInt32LE(1120) & 0x40) !== 0 ? 'ext4' : 'ext3';
    return undefined;
  } finally {
    await fh.close();
  }
}

export async function restoreVolume(c: DriverCore, req: DriverRestoreRequest): Promise<VolumeRecord> {
  validateVolumeName(req.volume);
  const source = isRancherBackupName(req.backupId) ? await rancherSource(req) : await convoySource(req);
  const size = roundUp(req.size ?? source.size, SIZE_ALIGN);
  if (size < source.size)
    throw invalidArgument(
      `size ${req.size} is smaller than the backup (${source.size} bytes)`,
      'leave out the size, or give at least the backup size',
    );
  const { id, dev } = await c.lock(async () => {
    if (c.nameTaken(req.volume)) {
      throw new DevmapperError('CONVOY_VOLUME_EXISTS', `volume ${req.volume} already exists`, { hint: 'restore into a new volume name' });
    }
    const id = allocateDeviceId(c.state);
    const op = { op: 'create', deviceId: id, volume: req.volume, started: c.now().toISOString() } as const;
    await c.journal(op);
    try {
      await c.pool.createThin(id);
      await c.fault('restore:created');
      return { id, dev: await c.pool.activate(c.volumeDevice(id), id, size) };
    } catch (err) {
      await c.settle(op).catch(() => undefined);
      throw err;
    }
  });
  const url = formatBackupUrl(req.store.location, req.backupVolume, req.backupId);
  let fsType: string;
  try {
    // Writing zeros would allocate the whole volume: only the backup's non-zero blocks are written.
    await source.write(dev);
    fsType = source.fs ?? (await detectFilesystem(dev)) ?? c.o.fs;
    await c.fault('restore:written');
  } catch (err) {
    await c.lock(() => c.settle({ op: 'create', deviceId: id, volume: req.volume, started: '' })).catch(() => undefined);
    throw err;
  }
  return c.lock(async () => {
    await c.pool.deactivate(c.volumeDevice(id));
    const v: VolumeRecord = {
      name: req.volume,
      uuid: req.uuid ?? randomUUID(),
      deviceId: id,
      size,
      fs: fsType,
      createdAt: c.now().toISOString(),
      formatted: true,
      restoredFrom: url,
      snapshots: {},
    };
    c.state.volumes[req.volume] = v;
    c.unjournal(id);
    await c.save();
    return v;
  });
}
