import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FsObjectStore, type ObjectStore } from '@convoy/objectstore';
import { VfsError } from './errors.js';
import { adoptConvoyVolumes, convoyVolumes, type Adoption } from './adopt.js';
import { driverInfo, reconcileData, type Reconciled } from './reconcile.js';
import { copyTree, finishRollbacks, rollBack } from './rollback.js';
import { Trash } from './trash.js';
import { backupSnapshotDir, checkRestorable, restoreInto } from './backup-data.js';
import { MetaRecords, TOMBSTONE, recordBytes, snapKey, tombKey, tombstoneSchema, type Lease, type VolumeRecord } from './records.js';
import { Leases } from './leases.js';
import { Snapshots } from './snapshots.js';
import { VolumeRecords } from './volume-records.js';
import type {
  BackupRequest,
  CreateVolumeRequest,
  ListOptions,
  RemoveVolumeRequest,
  RestoreRequest,
  SnapshotInfo,
  Tombstone,
  VolumeDriver,
  VolumeInfo,
} from '@convoy/volume-driver';

export interface VfsDriverOptions {
  /** Directory holding every vfs volume: a local disk or a shared NFS/GlusterFS mount. */
  basePath: string;
  /** This host's id in leases and tombstones (default: the hostname). */
  hostId?: string;
  /** Whether other hosts share basePath (Docker scope "global"). Default false ("local", as Convoy's vfs). */
  shared?: boolean;
  /** Convoy's vfs.defaultvolumesize: only reported (`convoy info`), as by Convoy; a directory has no size. */
  defaultVolumeSize?: number;
  now?: () => Date;
  /** Tests: wraps the metadata store, e.g. to run another host's steps between two of this one's. */
  wrapMeta?: (store: ObjectStore) => ObjectStore;
}

/**
 * Directory volumes under a base path (docs in README.md). Metadata lives on the base path as
 * atomic JSON objects (an FsObjectStore under meta/), so every host sharing the path sees every
 * volume; data lives in data/<uuid>, so a re-created name never sees an old volume's files.
 */
export class VfsDriver implements VolumeDriver {
  readonly name = 'vfs';
  readonly scope: 'local' | 'global';
  readonly #defaultVolumeSize: number | undefined;
  readonly basePath: string;
  readonly hostId: string;
  readonly #meta: ObjectStore;
  readonly #metaFs: FsObjectStore;
  readonly #records: MetaRecords;
  readonly #volumes: VolumeRecords;
  readonly #snapshots: Snapshots;
  readonly #leases: Leases;
  readonly #now: () => Date;
  /** This host's part of trash/: temporary files and directories being deleted. */
  readonly #trash: Trash;
  /** What start() cleaned up after a crash, and the Rancher Convoy volumes it adopted (for `convoy info`). */
  #reconciled: Reconciled | undefined;
  #adoption: Adoption | undefined;

  constructor(options: VfsDriverOptions) {
    if (!path.isAbsolute(options.basePath)) {
      throw new VfsError('CONVOY_INVALID_ARGUMENT', `vfs.path must be absolute: ${options.basePath}`, {
        hint: 'e.g. --driver-opts vfs.path=/var/lib/convoy/vfs',
      });
    }
    this.basePath = path.resolve(options.basePath);
    this.hostId = options.hostId ?? os.hostname();
    this.scope = options.shared === true ? 'global' : 'local';
    this.#defaultVolumeSize = options.defaultVolumeSize;
    this.#metaFs = new FsObjectStore(path.join(this.basePath, 'meta'));
    this.#meta = options.wrapMeta?.(this.#metaFs) ?? this.#metaFs;
    this.#records = new MetaRecords(this.#meta, path.join(this.basePath, 'meta'));
    this.#now = options.now ?? (() => new Date());
    this.#leases = new Leases({ store: this.#meta, records: this.#records, hostId: this.hostId, now: this.#now });
    this.#trash = new Trash(this.basePath, this.hostId);
    this.#volumes = new VolumeRecords({
      meta: this.#records,
      basePath: this.basePath,
      hostId: this.hostId,
      now: this.#now,
      discard: (dir) => this.#trash.discard(dir),
      scratch: this.#trash.dir,
    });
    this.#snapshots = new Snapshots({
      meta: this.#records,
      volumes: this.#volumes,
      basePath: this.basePath,
      hostId: this.hostId,
      now: this.#now,
      discard: (dir) => this.#trash.discard(dir),
      scratch: this.#trash.dir,
    });
  }

  async start(): Promise<void> {
    const convoy = await convoyVolumes(this.basePath); // Rancher Convoy's volumes here (adopt.ts), read before anything is made
    for (const d of ['data', 'snapshots', 'trash']) await fs.mkdir(path.join(this.basePath, d), { recursive: true, mode: 0o711 });
    await this.#trash.ensure();
    await this.#metaFs.open();
    // Temporary files of metadata writes killed halfway (any host's): an hour old, nobody is still writing them.
    await this.#metaFs.cleanupStale({ olderThan: new Date(this.#now().getTime() - STALE_TEMP_MS) });
    // Finish this host's removals a crash interrupted (trash.ts), and restore what a killed swap took.
    await this.#volumes.restoreTaken();
    await finishRollbacks(this.#trash.dir, (rec) => this.#volumes.dataDir(rec));
    await this.#trash.empty();
    await this.#leases.clearOwnIntents();
    const adopting = { base: this.basePath, hostId: this.hostId, now: this.#now, meta: this.#records, volumes: this.#volumes };
    this.#adoption = await adoptConvoyVolumes(adopting, convoy);
    this.#reconciled = await reconcileData({
      dataDir: path.join(this.basePath, 'data'),
      snapshotsDir: path.join(this.basePath, 'snapshots'),
      hostId: this.hostId,
      records: () => this.#volumes.all(),
      keep: () => this.#volumes.displaced(),
      snapshotRecords: () => this.#snapshots.all(),
      abandon: (rec) => this.#volumes.abandon(rec),
      dropSnapshot: async (snap) => {
        await this.#meta.delete([snapKey(snap.volume, snap.name)]);
        await this.#trash.discard(this.#snapshots.dir(snap.uuid));
      },
      discard: (dir) => this.#trash.discard(dir),
    });
  }

  async stop(): Promise<void> {}

  async info(): Promise<Record<string, unknown>> {
    let unreadable = 0;
    const volumes = (await this.list({ onProblem: () => unreadable++ })).length;
    const [defaultVolumeSize, reconciled, adoption] = [this.#defaultVolumeSize, this.#reconciled, this.#adoption];
    const at = { path: this.basePath, host: this.hostId, scope: this.scope };
    return driverInfo({ ...at, defaultVolumeSize, volumes, unreadable, reconciled, adoption });
  }

  // ---- volumes -------------------------------------------------------------------------------

  /** An empty volume, or a copy of a snapshot (volume-records.ts orders the steps so a crash leaves nothing that looks finished). */
  async create(req: CreateVolumeRequest): Promise<VolumeInfo> {
    const from = req.fromSnapshot && (await this.#snapshots.finished(req.fromSnapshot.volume, req.fromSnapshot.snapshot));
    return this.#made(req, from && ((dir) => copyTree(this.#snapshots.dir(from.uuid), dir)));
  }

  /**
   * Deletes a volume unless another host mounts it (or, without `force`, its Docker references it).
   * Against a mount racing it on another host, both sides write before they read: this delete
   * first records its intent (deleting/<name>/<host>.json), then reads the leases; a mount first
   * writes its lease, then looks for such an intent (mount below). Whichever comes second sees the
   * other, so a volume is never both deleted and mounted (at worst both are refused).
   */
  async remove(name: string, req: RemoveVolumeRequest = {}): Promise<void> {
    const rec = await this.#volumes.require(name);
    await this.#leases.whileDeleting(rec, () => this.#removeChecked(name, rec, req));
  }

  async #removeChecked(name: string, rec: VolumeRecord, req: RemoveVolumeRequest): Promise<void> {
    await this.#leases.refuseIfHeld(rec, req.force === true);
    const snaps = await this.snapshotList(name);
    // Tombstone first: hosts that still reference the name learn who deleted it and when.
    const tomb: Tombstone = { name, uuid: rec.uuid, deletedBy: this.hostId, deletedAt: this.#now().toISOString() };
    await this.#meta.put(tombKey(name), recordBytes(tomb));
    // Snapshot records before the volume's: a crash between leaves a volume without snapshots
    // (delete it again), never snapshot records that a re-created volume of the name would show.
    await this.#meta.delete(snaps.map((s) => snapKey(name, s.name)));
    // The record goes only if it is still this volume's (another host may have deleted the volume
    // and created a new one of the name meanwhile: its record, leases and references stay).
    if (!(await this.#volumes.swap(rec, undefined))) {
      throw new VfsError('CONVOY_VOLUME_DELETED', `volume ${name} was deleted by another host meanwhile`, {
        hint: 'convoy list shows the volumes',
        details: { volume: name },
      });
    }
    await this.#leases.dropAll(rec);
    if (req.keepData !== true) {
      await this.#trash.discard(this.#volumes.dataDir(rec));
      for (const s of snaps) await this.#trash.discard(this.#snapshots.dir(s.uuid));
    }
  }

  /** Writes this host's lease, then makes sure no delete of the volume began meanwhile (see remove). */
  async mount(name: string, options: { mountpoint?: string } = {}): Promise<string> {
    const rec = await this.#volumes.finished(name);
    const dir = this.#volumes.dataDir(rec);
    if (options.mountpoint !== undefined && path.resolve(options.mountpoint) !== dir) {
      throw new VfsError('CONVOY_INVALID_ARGUMENT', 'vfs volumes are directories and cannot be mounted elsewhere', { hint: `use ${dir}` });
    }
    // Mounted here already (another holder): the lease protects it since then.
    if (await this.#leases.holds(rec)) return dir;
    await this.#leases.take(rec, async () => (await this.#volumes.read(name))?.uuid === rec.uuid);
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    return dir;
  }

  unmount(name: string): Promise<void> {
    return this.#leases.release(name);
  }

  async get(name: string): Promise<VolumeInfo | undefined> {
    const rec = await this.#volumes.read(name);
    return rec === undefined ? undefined : this.#info(rec);
  }

  async list(options: ListOptions = {}): Promise<VolumeInfo[]> {
    const out: VolumeInfo[] = [];
    for (const rec of await this.#volumes.all(options)) out.push(await this.#info(rec));
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Hosts that have the volume mounted (from their leases on the shared path); a corrupt lease is an error. */
  leases(name: string): Promise<Lease[]> {
    return this.#leases.leases(name);
  }

  /** Records that this host's Docker knows the volume (see VolumeDriver.reference). */
  async reference(name: string): Promise<void> {
    const rec = await this.#volumes.read(name);
    if (rec !== undefined) await this.#leases.reference(rec);
  }

  /** Hosts whose Docker knows the volume; a corrupt reference is an error. */
  references(name: string): Promise<Lease[]> {
    return this.#leases.references(name);
  }

  /** Who deleted a volume and when, if it was deleted (and not re-created since). */
  tombstone(name: string): Promise<Tombstone | undefined> {
    return this.#records.read(tombKey(name), tombstoneSchema, TOMBSTONE);
  }

  // ---- snapshots (snapshots.ts) ---------------------------------------------------------------

  snapshotCreate(volume: string, snapshot: { name: string; uuid: string }): Promise<SnapshotInfo> {
    return this.#snapshots.create(volume, snapshot);
  }

  snapshotDelete(volume: string, snapshot: string): Promise<void> {
    return this.#snapshots.delete(volume, snapshot);
  }

  snapshotList(volume: string, options: ListOptions = {}): Promise<SnapshotInfo[]> {
    return this.#snapshots.list(volume, options);
  }

  /** Rolls the volume back to the snapshot in place (rollback.ts); refused while any host mounts it. */
  snapshotRestore(volume: string, snapshot: string): Promise<void> {
    return rollBack(
      { volumes: this.#volumes, snapshots: this.#snapshots, leases: this.#leases, scratch: this.#trash.dir },
      volume,
      snapshot,
    );
  }

  // ---- backups -------------------------------------------------------------------------------

  /** Backs a snapshot up as a directory backup (backup-data.ts). */
  async backup(req: BackupRequest): Promise<{ url: string; id: string }> {
    const s = await this.#snapshots.finished(req.volume, req.snapshot);
    return backupSnapshotDir(req, this.#snapshots.dir(s.uuid));
  }

  /**
   * A new volume from a directory backup, or from an older release's backup (a tar archive of the
   * snapshot in block mode, label content=tar).
   */
  async restore(req: RestoreRequest): Promise<VolumeInfo> {
    const kind = await checkRestorable(req);
    return this.#made(req.volume, (dir) => restoreInto(req, kind, dir, this.#trash.dir));
  }

  // ---- internals -----------------------------------------------------------------------------

  /** Begins a volume (record `creating`), fills its directory, then finishes it; abandoned if any step fails. */
  async #made(req: CreateVolumeRequest, fill?: (dir: string) => Promise<void>): Promise<VolumeInfo> {
    const rec = await this.#volumes.begin(req);
    try {
      await fill?.(this.#volumes.dataDir(rec));
      return await this.#info(await this.#volumes.finish(rec));
    } catch (err) {
      await this.#volumes.abandon(rec).catch(() => undefined);
      throw err;
    }
  }

  async #info(rec: VolumeRecord): Promise<VolumeInfo> {
    return this.#volumes.info(rec, await this.#leases.leased(rec.name));
  }
}

/** Age past which a temporary file under meta/ is a killed writer's (a write takes milliseconds). */
const STALE_TEMP_MS = 60 * 60 * 1000;
