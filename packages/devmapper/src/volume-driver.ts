import type {
  BackupRequest,
  CreateVolumeRequest,
  RemoveVolumeRequest,
  RestoreRequest,
  SnapshotInfo,
  VolumeDriver,
  VolumeInfo,
} from '@convoy/volume-driver';
import { DevmapperDriver } from './driver.js';
import type { ThinSnapshotInfo, ThinVolumeInfo } from './info.js';
import { DevmapperError } from './errors.js';
import { optionsFromDriverOpts, type DevmapperDriverOptions } from './options.js';

/**
 * Thin volumes as a VolumeDriver (@convoy/volume-driver), the contract the volume manager drives
 * every backend through: the thin-pool DevmapperDriver started lazily, its records mapped to the
 * contract's (every record has a UUID: assignMissingUuids gives old ones theirs).
 */
export class DevmapperVolumeDriver implements VolumeDriver {
  readonly name = 'devicemapper';
  readonly scope = 'local' as const;
  readonly #options: DevmapperDriverOptions;
  #d: DevmapperDriver | undefined;

  constructor(options: DevmapperDriverOptions) {
    this.#options = options;
  }

  /** From the daemon's --driver-opts (dm.datadev, dm.metadatadev, dm.thinpoolname, dm.blocksize, …), and where its notices go. */
  static fromDriverOpts(
    root: string,
    opts: Readonly<Record<string, string>>,
    extra: Pick<DevmapperDriverOptions, 'log'> = {},
  ): DevmapperVolumeDriver {
    return new DevmapperVolumeDriver({ ...optionsFromDriverOpts(root, opts), ...extra });
  }

  /** Fails with CONVOY_DM_UNAVAILABLE (hint: modprobe dm_thin_pool, or --drivers vfs) without device-mapper. */
  async start(): Promise<void> {
    this.#d ??= await DevmapperDriver.start(this.#options);
  }

  async stop(): Promise<void> {
    await this.#d?.stop();
  }

  async info(): Promise<Record<string, unknown>> {
    return { driver: 'devicemapper', root: this.#dm.root, ...(await this.#dm.status()) };
  }

  async create(req: CreateVolumeRequest): Promise<VolumeInfo> {
    return volumeInfo(await this.#dm.create({ name: req.name, uuid: req.uuid, size: req.size, fromSnapshot: req.fromSnapshot }));
  }

  async remove(name: string, req: RemoveVolumeRequest): Promise<void> {
    if (req.keepData === true) {
      throw new DevmapperError('CONVOY_INVALID_ARGUMENT', 'a thin volume cannot be forgotten while keeping its data', {
        hint: `delete it (convoy delete ${name}), or back it up first`,
      });
    }
    await this.#dm.remove(name);
  }

  mount(name: string, options: { mountpoint?: string }): Promise<string> {
    return this.#dm.mount(name, options);
  }

  unmount(name: string): Promise<void> {
    return this.#dm.unmount(name);
  }

  async get(name: string): Promise<VolumeInfo | undefined> {
    const v = await this.#dm.get(name);
    return v === undefined ? undefined : volumeInfo(v);
  }

  async list(): Promise<VolumeInfo[]> {
    return (await this.#dm.list()).map(volumeInfo);
  }

  async snapshotCreate(volume: string, snapshot: { name: string; uuid: string }): Promise<SnapshotInfo> {
    return snapshotInfo(await this.#dm.snapshotCreate(volume, snapshot.name, { uuid: snapshot.uuid }));
  }

  snapshotDelete(volume: string, snapshot: string): Promise<void> {
    return this.#dm.snapshotDelete(volume, snapshot);
  }

  snapshotRestore(volume: string, snapshot: string): Promise<void> {
    return this.#dm.snapshotRestore(volume, snapshot);
  }

  async snapshotList(volume: string): Promise<SnapshotInfo[]> {
    return (await this.#dm.snapshotList(volume)).map(snapshotInfo);
  }

  async backup(req: BackupRequest): Promise<{ url: string; id: string }> {
    const r = await this.#dm.backup({
      volume: req.volume,
      snapshot: req.snapshot,
      store: req.store,
      labels: req.labels,
      signal: req.signal,
      onProgress: req.onProgress,
    });
    return { url: r.url, id: r.id };
  }

  async restore(req: RestoreRequest): Promise<VolumeInfo> {
    return volumeInfo(
      await this.#dm.restore({
        volume: req.volume.name,
        uuid: req.volume.uuid,
        store: req.store,
        backupVolume: req.backupVolume,
        backupId: req.backupId,
        size: req.volume.size,
        signal: req.signal,
        onProgress: req.onProgress,
      }),
    );
  }

  get #dm(): DevmapperDriver {
    if (this.#d === undefined)
      throw new DevmapperError('CONVOY_DRIVER_NOT_STARTED', 'the devicemapper driver is not running', {
        hint: 'see the daemon log for why it failed to start',
      });
    return this.#d;
  }
}

function volumeInfo(v: ThinVolumeInfo): VolumeInfo {
  return {
    name: v.name,
    uuid: v.uuid,
    driver: 'devicemapper',
    createdAt: v.createdAt,
    size: v.size,
    mountpoint: v.mountpoint,
    status: { deviceId: v.deviceId, fs: v.fs, snapshots: v.snapshots },
  };
}

function snapshotInfo(s: ThinSnapshotInfo): SnapshotInfo {
  return { name: s.name, uuid: s.uuid, volume: s.volume, createdAt: s.createdAt, size: s.size };
}
