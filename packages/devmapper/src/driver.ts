import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { validateVolumeName } from '@convoy/rules';
import { adoptedPoolOptions, adoptionMessage, planAdoption, takeOver } from './adopt.js';
import { DriverCore } from './core.js';
import {
  backupSnapshot,
  openBackupSource,
  type BackupSourceOptions,
  type DriverBackupRequest,
  type DriverBackupResult,
  type OpenedBackupSource,
} from './backup.js';
import { restoreVolume, type DriverRestoreRequest } from './restore.js';
import { DevmapperError, invalidArgument, volumeInUse } from './errors.js';
import { LinuxHostOps } from './host-ops.js';
import { LibDmApi } from './libdm.js';
import { resolveOptions, type DevmapperDriverOptions } from './options.js';
import { ThinPool } from './pool.js';
import { reconcile, type ReconcileReport } from './reconcile.js';
import { roundUp } from './sizes.js';
import { StateFile, allocateDeviceId, assignMissingUuids, emptyState, type VolumeRecord } from './state.js';
import { snapshotInfo, volumeInfo, type PoolInfo, type ThinSnapshotInfo, type ThinVolumeInfo } from './info.js';
import { createSnapshot, deleteSnapshot, rollBackToSnapshot } from './snapshots.js';
import { mountedAt, mountVolume, unmountVolume } from './mounts.js';

const SIZE_ALIGN = 4096;

/**
 * Thin-provisioned volumes in one device-mapper thin pool (README.md). Start it with
 * `DevmapperDriver.start(options)`; it fails with CONVOY_DM_UNAVAILABLE where the kernel has no
 * device-mapper. One driver instance per root at a time.
 */
export class DevmapperDriver {
  readonly name = 'devicemapper';
  readonly #c: DriverCore;
  /** What reconciliation found and fixed when this instance started. */
  readonly startReport: ReconcileReport;

  private constructor(core: DriverCore, report: ReconcileReport) {
    this.#c = core;
    this.startReport = report;
  }

  static async start(options: DevmapperDriverOptions): Promise<DevmapperDriver> {
    let o = resolveOptions(options);
    const dm = options.dm ?? (await LibDmApi.open());
    await dm.version();
    const host = options.host ?? new LinuxHostOps();
    await fs.mkdir(o.root, { recursive: true, mode: 0o700 });
    const file = new StateFile(o.root);
    const loaded = await file.load();
    if (loaded?.adopted !== undefined) o = adoptedPoolOptions(o, options, loaded.pool); // Convoy's pool, unless options say otherwise
    // No state of ours, but Rancher Convoy's records of a pool: take that pool over (adopt.ts).
    const adoption = loaded === undefined ? await planAdoption(o, options, options.now?.() ?? new Date()) : undefined;
    if (adoption !== undefined) o = adoption.o;
    if (loaded !== undefined && (loaded.pool.name !== o.thinPoolName || loaded.pool.blockSize !== o.blockSize)) {
      throw new DevmapperError(
        'CONVOY_POOL_MISMATCH',
        `${file.path} belongs to pool ${loaded.pool.name} with ${loaded.pool.blockSize}-byte blocks, not ${o.thinPoolName} with ${o.blockSize}`,
        {
          hint: `start with dm.thinpoolname=${loaded.pool.name} dm.blocksize=${loaded.pool.blockSize / 512}, or use another root`,
        },
      );
    }
    const pool = await ThinPool.open(dm, host, o, loaded !== undefined || adoption !== undefined);
    const state = loaded ?? adoption?.state ?? emptyState(o.thinPoolName, o.blockSize);
    if (adoption?.state.adopted !== undefined) {
      const removed = await takeOver(adoption, dm, pool);
      options.log?.('info', adoptionMessage(adoption.state.adopted, removed));
    }
    const core = new DriverCore({ o, dm, host, pool, file, state, options });
    if (loaded === undefined || assignMissingUuids(state)) await core.save();
    const report = await core.lock(() => reconcile(core));
    return new DevmapperDriver(core, report);
  }

  get root(): string {
    return this.#c.o.root;
  }

  /** Waits for running operations. Devices, mounts and the pool stay up (volumes survive a restart). */
  async stop(): Promise<void> {
    await this.#c.lock(async () => undefined);
  }

  /**
   * A new thin volume: empty, or with `fromSnapshot` a thin snapshot of that snapshot (create_snap:
   * instant, sharing its blocks; its size and filesystem are the snapshot's).
   */
  async create(req: {
    name: string;
    size?: number;
    uuid?: string;
    fromSnapshot?: { volume: string; snapshot: string };
  }): Promise<ThinVolumeInfo> {
    const c = this.#c;
    validateVolumeName(req.name);
    const size = roundUp(req.size ?? c.o.defaultVolumeSize, SIZE_ALIGN);
    if (!Number.isSafeInteger(size) || size <= 0) throw invalidArgument(`volume size ${req.size} is not a positive number of bytes`);
    return c.lock(async () => {
      const source = req.fromSnapshot && c.snapshot(req.fromSnapshot.volume, req.fromSnapshot.snapshot);
      const from = source?.s;
      if (from !== undefined && req.size !== undefined && roundUp(req.size, SIZE_ALIGN) !== from.size)
        throw invalidArgument(`a volume made from snapshot ${from.name} has its size (${from.size} bytes)`, 'leave out the size');
      if (c.nameTaken(req.name)) {
        throw new DevmapperError('CONVOY_VOLUME_EXISTS', `volume ${req.name} already exists`, {
          hint: 'choose another name, or delete the volume first',
        });
      }
      const id = allocateDeviceId(c.state);
      const op = { op: 'create', deviceId: id, volume: req.name, started: c.now().toISOString() } as const;
      await c.journal(op);
      await c.fault('create:journaled');
      try {
        // a snapshot's device is active only while a backup reads it, and then read-only: create_snap needs no suspend
        await (from === undefined ? c.pool.createThin(id) : c.pool.createSnapshot(id, from.deviceId));
        await c.fault('create:thin-created');
      } catch (err) {
        await c.settle(op).catch(() => undefined);
        throw err;
      }
      const v: VolumeRecord = {
        name: req.name,
        uuid: req.uuid ?? randomUUID(),
        deviceId: id,
        size: from?.size ?? size,
        fs: source?.v.fs ?? c.o.fs,
        createdAt: c.now().toISOString(),
        formatted: source?.v.formatted ?? false,
        snapshots: {},
      };
      c.state.volumes[req.name] = v;
      c.unjournal(id);
      await c.save();
      return volumeInfo(v);
    });
  }

  /** Deletes a volume that is not mounted and has no snapshots. */
  async remove(name: string): Promise<void> {
    const c = this.#c;
    await c.lock(async () => {
      const v = c.volume(name);
      const snaps = Object.keys(v.snapshots);
      if (snaps.length > 0)
        throw volumeInUse(name, `has snapshots (${snaps.join(', ')})`, `delete them first (\`convoy snapshot delete\`)`);
      if (v.mountpoint !== undefined && (await mountedAt(this.#c, v)) !== undefined) {
        throw volumeInUse(name, `is mounted on ${v.mountpoint}`, 'unmount it first (stop the containers that use it)');
      }
      const op = { op: 'delete', deviceId: v.deviceId, volume: name, started: c.now().toISOString() } as const;
      delete c.state.volumes[name];
      await c.journal(op);
      await c.fault('delete:journaled');
      try {
        await c.pool.deactivate(c.volumeDevice(v.deviceId));
        await c.pool.deleteThin(v.deviceId, true);
        await c.fault('delete:deleted');
      } catch (err) {
        c.state.volumes[name] = v; // still there: say so rather than retry behind the user's back
        c.unjournal(v.deviceId);
        await c.save();
        throw err;
      }
      c.unjournal(v.deviceId);
      await c.save();
    });
  }

  /** Activates the volume, makes its filesystem on first use, mounts it; returns the mountpoint. Idempotent (mounts.ts). */
  mount(name: string, options: { mountpoint?: string } = {}): Promise<string> {
    return mountVolume(this.#c, name, options.mountpoint);
  }

  /** Unmounts and deactivates the volume. Idempotent. */
  unmount(name: string): Promise<void> {
    return unmountVolume(this.#c, name);
  }

  /**
   * The volume as a raw block device (activated, not mounted): for tools and benchmarks. The
   * caller must not mount it behind the driver's back; `deactivate` ends it.
   */
  async activate(name: string): Promise<string> {
    const c = this.#c;
    return c.lock(async () => {
      const v = c.volume(name);
      return c.pool.activate(c.volumeDevice(v.deviceId), v.deviceId, v.size);
    });
  }

  async deactivate(name: string): Promise<void> {
    const c = this.#c;
    await c.lock(async () => {
      const v = c.volume(name);
      if (v.mountpoint !== undefined) throw volumeInUse(name, `is mounted on ${v.mountpoint}`, 'unmount it instead');
      await c.pool.deactivate(c.volumeDevice(v.deviceId));
    });
  }

  async get(name: string): Promise<ThinVolumeInfo | undefined> {
    const v = this.#c.state.volumes[name];
    return v === undefined ? undefined : volumeInfo(v);
  }

  async list(): Promise<ThinVolumeInfo[]> {
    return Object.values(this.#c.state.volumes)
      .map(volumeInfo)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Takes a snapshot: a mounted (active) volume is suspended — its filesystem frozen — around create_snap. */
  async snapshotCreate(volume: string, name: string, options: { uuid?: string } = {}): Promise<ThinSnapshotInfo> {
    return createSnapshot(this.#c, volume, name, options);
  }

  async snapshotDelete(volume: string, name: string): Promise<void> {
    await deleteSnapshot(this.#c, volume, name);
  }

  /** Rolls the volume back to the snapshot in place (snapshots.ts); refused while it is mounted. */
  snapshotRestore(volume: string, snapshot: string): Promise<void> {
    return rollBackToSnapshot(this.#c, volume, snapshot);
  }

  async snapshotList(volume: string): Promise<ThinSnapshotInfo[]> {
    const v = this.#c.volume(volume);
    return Object.values(v.snapshots)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.deviceId - b.deviceId)
      .map((s) => snapshotInfo(volume, s));
  }

  async snapshotGet(volume: string, name: string): Promise<ThinSnapshotInfo | undefined> {
    const s = this.#c.state.volumes[volume]?.snapshots[name];
    return s === undefined ? undefined : snapshotInfo(volume, s);
  }

  /** Pool usage (data and metadata) and what the driver holds. */
  async status(): Promise<PoolInfo> {
    const c = this.#c;
    const st = await c.pool.status();
    const vols = Object.values(c.state.volumes);
    return {
      ...st,
      name: c.pool.name,
      blockSize: c.pool.blockSize,
      dataDevice: c.pool.devices.data,
      metadataDevice: c.pool.devices.metadata,
      loopFiles: c.pool.devices.loop,
      dataUsedBytes: st.dataUsedBlocks * c.pool.blockSize,
      dataTotalBytes: st.dataTotalBlocks * c.pool.blockSize,
      metadataUsedBytes: st.metadataUsedBlocks * 4096,
      metadataTotalBytes: st.metadataTotalBlocks * 4096,
      volumes: vols.length,
      snapshots: vols.reduce((n, v) => n + Object.keys(v.snapshots).length, 0),
      defaultVolumeSize: c.o.defaultVolumeSize,
      ...(c.state.adopted === undefined ? {} : { adoptedFrom: c.state.adopted }),
    };
  }

  /** The thin device ids the pool holds (thin_ls on a metadata snapshot). */
  async poolDeviceIds(): Promise<number[]> {
    return this.#c.lock(() => this.#c.pool.listThinIds());
  }

  /**
   * Opens a snapshot for a backup: a read-only thin device read as a block device, and — with a
   * parent snapshot of the same volume — the extents that changed since it (thin_delta).
   */
  async backupSource(volume: string, snapshot: string, options: BackupSourceOptions = {}): Promise<OpenedBackupSource> {
    return openBackupSource(this.#c, volume, snapshot, options);
  }

  /**
   * Backs a snapshot up to a store: incremental against the newest earlier snapshot of the volume
   * that has a backup in the same store (only thin_delta's changed blocks are read), else a full
   * read with dedup against the volume's latest backup.
   */
  async backup(req: DriverBackupRequest): Promise<DriverBackupResult> {
    return backupSnapshot(this.#c, req);
  }

  /**
   * Creates a new thin volume from a backup — ours, or a Rancher Convoy v0.5.2 devicemapper
   * (deltablock) backup — writing only the backup's non-zero blocks.
   */
  async restore(req: DriverRestoreRequest): Promise<ThinVolumeInfo> {
    return volumeInfo(await restoreVolume(this.#c, req));
  }

  /** Removes the pool device and detaches its loop files; refused while volumes exist. */
  async destroyPool(): Promise<void> {
    const c = this.#c;
    await c.lock(async () => {
      const names = Object.keys(c.state.volumes);
      if (names.length > 0) throw volumeInUse(names[0] as string, 'still exists', 'delete every volume before destroying the pool');
      await c.pool.destroy();
    });
  }
}
