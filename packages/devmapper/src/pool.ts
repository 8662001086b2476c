import { constants, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Extent } from '@convoy/blockstore';
import { SECTOR, isDmError, type DmApi } from './dm-api.js';
import { DevmapperError, dmUnavailable } from './errors.js';
import type { BlockDeviceInfo, HostOps } from './host-ops.js';
import type { ResolvedOptions } from './options.js';
import { parsePoolStatus, parseThinStatus, type PoolStatus } from './pool-status.js';
import { changedExtents, mappedExtents, parseThinDelta, rangeBlocks, type ThinDelta } from './thin-delta.js';

/** THIN_SUPERBLOCK_MAGIC, a little-endian u64 at byte 32 of the metadata device. */
const THIN_MAGIC = 27022010n;

export type MetadataKind = 'empty' | 'thin-pool' | 'other';

/** What the first 4 KiB of a metadata device hold: zeros (a new pool), a thin pool, or something else. */
export async function metadataKind(device: string): Promise<MetadataKind> {
  const fh = await fs.open(device, constants.O_RDONLY);
  try {
    const buf = Buffer.alloc(4096);
    await fh.read(buf, 0, buf.length, 0);
    if (buf.every((b) => b === 0)) return 'empty';
    return buf.readBigUInt64LE(32) === THIN_MAGIC ? 'thin-pool' : 'other';
  } finally {
    await fh.close();
  }
}

export interface PoolDevices {
  data: string;
  metadata: string;
  /** True when data and metadata are loop devices over files under the root. */
  loop: boolean;
}

/**
 * The thin pool: its data and metadata devices, the pool device, and the pool's messages
 * (create_thin, create_snap, delete, metadata snapshots), thin activation and thin_delta.
 */
export class ThinPool {
  readonly name: string;
  readonly blockSize: number;
  readonly devices: PoolDevices;
  readonly #dm: DmApi;
  readonly #host: HostOps;
  #metaSnapBusy: Promise<void> = Promise.resolve();

  private constructor(dm: DmApi, host: HostOps, name: string, blockSize: number, devices: PoolDevices) {
    this.#dm = dm;
    this.#host = host;
    this.name = name;
    this.blockSize = blockSize;
    this.devices = devices;
  }

  /**
   * Finds or builds the pool: loop files under the root when no devices are given, checks what
   * the metadata device holds (`known`: the root's state file describes this pool), then reuses a
   * live pool device or creates, loads and resumes one.
   */
  static async open(dm: DmApi, host: HostOps, o: ResolvedOptions, known: boolean): Promise<ThinPool> {
    const devices = await preparePoolDevices(host, o);
    const info = await dm.info(o.thinPoolName);
    const [meta, data] = await Promise.all([host.blockDevice(devices.metadata), host.blockDevice(devices.data)]);
    if (info.exists && info.liveTable) {
      await checkLiveTable(dm, o, meta, data);
      return new ThinPool(dm, host, o.thinPoolName, o.blockSize, devices);
    }
    const kind = await metadataKind(devices.metadata);
    if (kind === 'other') {
      throw new DevmapperError('CONVOY_POOL_METADATA_FOREIGN', `metadata device ${devices.metadata} holds data that is not a thin pool`, {
        hint: `if it may be overwritten, zero its first 4 KiB (\`dd if=/dev/zero of=${devices.metadata} bs=4096 count=1\`) and start again`,
      });
    }
    if (kind === 'thin-pool' && !known) {
      throw new DevmapperError(
        'CONVOY_POOL_UNKNOWN',
        `metadata device ${devices.metadata} holds a thin pool that ${path.join(o.root, 'state.json')} does not describe`,
        {
          hint: `start with the root that created this pool, or, to discard every volume in it, zero its first 4 KiB (\`dd if=/dev/zero of=${devices.metadata} bs=4096 count=1\`)`,
        },
      );
    }
    const bs = o.blockSize / SECTOR;
    const sectors = Math.floor(data.size / o.blockSize) * bs;
    if (sectors === 0)
      throw new DevmapperError(
        'CONVOY_INVALID_ARGUMENT',
        `data device ${devices.data} (${data.size} bytes) is smaller than one pool block`,
      );
    const lowWater = Math.max(1, Math.floor(sectors / bs / 100));
    if (!info.exists) await dm.create(o.thinPoolName);
    try {
      await dm.load(o.thinPoolName, [
        {
          start: 0,
          length: sectors,
          type: 'thin-pool',
          params: `${meta.major}:${meta.minor} ${data.major}:${data.minor} ${bs} ${lowWater} 0`,
        },
      ]);
      await dm.resume(o.thinPoolName);
    } catch (err) {
      await dm.remove(o.thinPoolName).catch(() => undefined);
      if (isDmError(err, 'EINVAL') && !existsSync('/sys/module/dm_thin_pool')) {
        throw dmUnavailable(`the kernel has no thin-pool target (dm_thin_pool is not loaded): ${err.message}`, err);
      }
      throw err;
    }
    return new ThinPool(dm, host, o.thinPoolName, o.blockSize, devices);
  }

  async status(): Promise<PoolStatus> {
    const t = (await this.#dm.status(this.name))[0];
    if (t === undefined || t.type !== 'thin-pool')
      throw new DevmapperError('CONVOY_DM_FAILED', `pool ${this.name} has no thin-pool table`, { hint: 'check it with `dmsetup table`' });
    return parsePoolStatus(t.params);
  }

  async createThin(id: number): Promise<void> {
    await this.#dm.message(this.name, `create_thin ${id}`);
  }

  async createSnapshot(id: number, origin: number): Promise<void> {
    await this.#dm.message(this.name, `create_snap ${id} ${origin}`);
  }

  /** Deletes a thin device from the pool; a missing one is not an error when `ifExists`. */
  async deleteThin(id: number, ifExists = false): Promise<void> {
    try {
      await this.#dm.message(this.name, `delete ${id}`);
    } catch (err) {
      if (!(ifExists && isDmError(err, 'ENODATA'))) throw err;
    }
  }

  /** Activates thin device `id` as dm device `name` (idempotent); returns its device node. */
  async activate(name: string, id: number, size: number, readOnly = false): Promise<string> {
    const info = await this.#dm.info(name);
    if (info.exists && info.liveTable) {
      if (info.suspended) await this.#dm.resume(name);
      return this.#dm.devicePath(name);
    }
    const pool = await this.#dm.info(this.name);
    if (!info.exists) await this.#dm.create(name, readOnly ? { readOnly: true } : {});
    try {
      await this.#dm.load(
        name,
        [{ start: 0, length: Math.ceil(size / SECTOR), type: 'thin', params: `${pool.major}:${pool.minor} ${id}` }],
        readOnly ? { readOnly: true } : {},
      );
      await this.#dm.resume(name);
    } catch (err) {
      await this.#dm.remove(name).catch(() => undefined);
      throw err;
    }
    return this.#dm.devicePath(name);
  }

  /** Removes dm device `name` if it exists (resuming it first if a crash left it suspended). */
  async deactivate(name: string): Promise<void> {
    const info = await this.#dm.info(name);
    if (!info.exists) return;
    if (info.suspended) await this.#dm.resume(name).catch(() => undefined);
    try {
      await this.#dm.remove(name);
    } catch (err) {
      if (!isDmError(err, 'ENXIO')) throw err;
    }
  }

  /**
   * Runs `fn` while the pool holds a metadata snapshot, so thin_delta/thin_ls read a consistent
   * copy of the live metadata. One at a time (the kernel holds at most one); a snapshot a crashed
   * process left behind is released first.
   */
  async withMetadataSnapshot<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.#metaSnapBusy;
    let done!: () => void;
    this.#metaSnapBusy = new Promise<void>((r) => (done = r));
    await prev;
    try {
      if ((await this.status()).heldMetadataRoot !== undefined) await this.#dm.message(this.name, 'release_metadata_snap');
      await this.#dm.message(this.name, 'reserve_metadata_snap');
      try {
        return await fn();
      } finally {
        await this.#dm.message(this.name, 'release_metadata_snap');
      }
    } finally {
      done();
    }
  }

  /** The thin device ids in the pool (thin_ls on a metadata snapshot). */
  async listThinIds(): Promise<number[]> {
    return this.withMetadataSnapshot(() => this.#host.thinList(this.devices.metadata));
  }

  /**
   * Byte extents of a volume that differ between snapshot `from` and snapshot `to` (thin_delta on
   * a metadata snapshot), widened to `backupBlockSize` blocks.
   */
  async changedExtents(from: number, to: number, volumeSize: number, backupBlockSize: number): Promise<Extent[]> {
    return changedExtents(await this.#delta(from, to), volumeSize, backupBlockSize);
  }

  /**
   * Byte extents of thin device `id` (active as dm device `name`) that it maps, widened to
   * `backupBlockSize` blocks; the rest reads as zeros. Undefined when thin_delta's count of mapped
   * blocks disagrees with the kernel's (the device's status): then nothing is skipped.
   */
  async mappedExtents(id: number, name: string, volumeSize: number, backupBlockSize: number): Promise<Extent[] | undefined> {
    const delta = await this.#delta(id, id);
    const status = (await this.#dm.status(name))[0];
    if (status === undefined) return undefined;
    const kernel = parseThinStatus(status.params);
    if (kernel.failed || rangeBlocks(delta) * delta.blockSectors !== kernel.mappedSectors) return undefined;
    return mappedExtents(delta, volumeSize, backupBlockSize);
  }

  async #delta(from: number, to: number): Promise<ThinDelta> {
    const xml = await this.withMetadataSnapshot(() => this.#host.thinDelta(this.devices.metadata, from, to));
    const delta = parseThinDelta(xml);
    if (delta.blockSectors * SECTOR !== this.blockSize) {
      throw new DevmapperError(
        'CONVOY_THIN_DELTA_INVALID',
        `thin_delta reports ${delta.blockSectors}-sector blocks, the pool uses ${this.blockSize / SECTOR}`,
      );
    }
    return delta;
  }

  /** Removes the pool device and detaches its loop devices (tests and `convoy` teardown). */
  async destroy(): Promise<void> {
    await this.deactivate(this.name);
    if (this.devices.loop) {
      await this.#host.detachLoop(this.devices.data).catch(() => undefined);
      await this.#host.detachLoop(this.devices.metadata).catch(() => undefined);
    }
  }
}

async function preparePoolDevices(host: HostOps, o: ResolvedOptions): Promise<PoolDevices> {
  if (o.dataDevice !== undefined && o.metadataDevice !== undefined) return { data: o.dataDevice, metadata: o.metadataDevice, loop: false };
  const dataFile = path.join(o.root, 'data');
  const metaFile = path.join(o.root, 'metadata');
  await sparseFile(dataFile, o.loopDataSize);
  await sparseFile(metaFile, o.loopMetadataSize);
  return { data: await host.attachLoop(dataFile), metadata: await host.attachLoop(metaFile), loop: true };
}

/** Creates a sparse file of `size` bytes unless the file exists (an existing pool keeps its size). */
async function sparseFile(file: string, size: number): Promise<void> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  try {
    await fh.truncate(size);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function checkLiveTable(dm: DmApi, o: ResolvedOptions, meta: BlockDeviceInfo, data: BlockDeviceInfo): Promise<void> {
  const t = (await dm.table(o.thinPoolName))[0];
  const f = t?.params.split(/\s+/) ?? [];
  if (t?.type !== 'thin-pool') {
    throw new DevmapperError('CONVOY_POOL_MISMATCH', `device ${o.thinPoolName} exists but is not a thin pool`, {
      hint: 'choose another dm.thinpoolname',
    });
  }
  const bs = Number(f[2]) * SECTOR;
  if (f[0] !== `${meta.major}:${meta.minor}` || f[1] !== `${data.major}:${data.minor}`) {
    throw new DevmapperError(
      'CONVOY_POOL_MISMATCH',
      `pool ${o.thinPoolName} runs on ${f[0]} (metadata) and ${f[1]} (data), not on the configured devices`,
      {
        hint: 'configure the devices the pool was created on, or choose another dm.thinpoolname',
      },
    );
  }
  if (bs !== o.blockSize) {
    throw new DevmapperError(
      'CONVOY_POOL_MISMATCH',
      `pool ${o.thinPoolName} has ${bs}-byte blocks, the configuration says ${o.blockSize}`,
      {
        hint: `set dm.blocksize=${bs / SECTOR} (the block size is fixed when a pool is created)`,
      },
    );
  }
}
