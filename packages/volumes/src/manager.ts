import { randomUUID } from 'node:crypto';
import type { DeleteResult } from '@convoy/blockstore';
import { FsObjectStore } from '@convoy/objectstore';
import { KeyedLock } from '@convoy/daemon-kit';
import type { VolumeDriver, VolumeInfo } from '@convoy/volume-driver';
import { invalidRequest, snapshotExists, snapshotNotFound, volumeExists, volumeInUse, volumeNotFound, type VolumeError } from './errors.js';
import { defaultSnapshotName, findVolume, missingVolume, pickByUuidPrefix, pickSnapshot, type Found } from './lookup.js';
import { MountRefs } from './mount-refs.js';
import { backupLabels, cannotRollBack, chooseDriver, volumeOptions } from './create-options.js';
import { backupDelete, backupInspect, backupList, backupSnapshot, restoreVolume } from './backups.js';
import type { BackupCreateOptions, BackupListing, InspectedBackup } from './backups.js';
import { releaseUnheld, remountHeld, startDrivers, type Unavailable } from './startup.js';
import { parseSize, validateSnapshotName, validateVolumeName } from '@convoy/rules';
import type { Caller, CreateOptions, ManagedSnapshot, ManagedVolume, ManagerOptions, SnapshotListing, VolumeListing } from './types.js';

/**
 * The volume manager: drivers by name, names and UUIDs, one operation at a time per volume,
 * Docker mount reference counts that survive restarts, snapshots and backups across drivers.
 */
export class VolumeManager {
  readonly #drivers = new Map<string, VolumeDriver>();
  #default: string;
  readonly #unavailable: Unavailable = {};
  readonly #opts: ManagerOptions;
  readonly #lock = new KeyedLock();
  readonly #refs: MountRefs;
  /** `name/uuid` of volumes whose Docker reference from this host is recorded with the driver. */
  readonly #dockerKnows = new Set<string>();

  private constructor(opts: ManagerOptions, refs: MountRefs) {
    for (const d of opts.drivers) this.#drivers.set(d.name, d);
    const first = opts.drivers[0];
    if (first === undefined) throw invalidRequest('no volume driver configured', 'start the daemon with --drivers vfs (or devicemapper)');
    this.#default = opts.defaultDriver ?? first.name;
    if (!this.#drivers.has(this.#default)) throw invalidRequest(`default driver ${this.#default} is not among the drivers`);
    this.#opts = opts;
    this.#refs = refs;
  }

  /** Starts the drivers and re-establishes the mounts Docker still holds (after a crash). */
  static async open(opts: ManagerOptions): Promise<VolumeManager> {
    const state = await new FsObjectStore(opts.root).open();
    const m = new VolumeManager(opts, await MountRefs.load(state, opts.root));
    await startDrivers(opts, m.#drivers, m.#unavailable);
    if (!m.#drivers.has(m.#default)) m.#default = m.driverNames[0] ?? m.#default;
    await releaseUnheld(m.#drivers.values(), m.#refs, opts.onProblem);
    await remountHeld(m.#refs, (name) => m.#find(name), opts.onProblem);
    return m;
  }

  async close(): Promise<void> {
    for (const d of this.#drivers.values()) await d.stop();
  }

  get driverNames(): string[] {
    return [...this.#drivers.keys()];
  }

  /** The durable mount reference counter (the Docker plugin handler shares it). */
  get mountRefs(): MountRefs {
    return this.#refs;
  }

  get defaultDriver(): string {
    return this.#default;
  }

  /** The drivers' scope for Docker: global only if every driver's volumes are shared. */
  get scope(): 'local' | 'global' {
    return [...this.#drivers.values()].every((d) => d.scope === 'global') ? 'global' : 'local';
  }

  async info(): Promise<Record<string, unknown>> {
    const drivers: Record<string, unknown> = {};
    for (const [n, d] of this.#drivers) drivers[n] = await d.info();
    return { defaultDriver: this.#default, drivers, unavailable: this.#unavailable, mounted: this.#refs.volumes() };
  }

  // ---- volumes -------------------------------------------------------------------------------

  async create(o: CreateOptions): Promise<ManagedVolume> {
    validateVolumeName(o.name);
    const opts = volumeOptions(o);
    const from = opts.snapshot === undefined ? undefined : await this.snapshotInspect(opts.snapshot);
    const { size: sizeText, backup } = opts;
    const driver = this.#driver(await chooseDriver(opts, from, this.driverNames, this.#default, this.#opts.openStore));
    return this.#lock.run(o.name, async () => {
      const existing = await this.#find(o.name);
      if (existing !== undefined) {
        // Docker asks to create what it already knows after a restart: that is not an error.
        if (o.caller === 'docker' && backup === undefined) {
          await this.#dockerReference(existing.driver, existing.info);
          return this.#managed(existing.info);
        }
        throw volumeExists(o.name);
      }
      const req = {
        name: o.name,
        uuid: randomUUID(),
        options: {},
        ...(from === undefined ? {} : { fromSnapshot: { volume: from.volume, snapshot: from.name } }),
        ...(sizeText === undefined ? {} : { size: typeof sizeText === 'number' ? sizeText : parseSize(sizeText) }),
      };
      if (backup === undefined) {
        const info = await driver.create(req);
        if (o.caller === 'docker') await this.#dockerReference(driver, info);
        return this.#managed(info);
      }
      const info = await restoreVolume(driver, req, backup, { signal: o.signal, onProgress: o.onProgress, open: this.#opts.openStore });
      return this.#managed(info);
    });
  }

  async remove(name: string, o: { caller: Caller; force?: boolean; keepData?: boolean }): Promise<void> {
    validateVolumeName(name);
    if (o.caller === 'docker' && this.#opts.ignoreDockerDelete === true) {
      await this.#refs.clear(name);
      return;
    }
    await this.#lock.run(name, async () => {
      const found = await this.#find(name);
      if (found === undefined) {
        await this.#refs.clear(name);
        // Docker removing a volume another host deleted: let it drop its reference quietly.
        if (o.caller === 'docker') return;
        throw volumeNotFound(name);
      }
      // Docker sends Remove only once no container uses the volume: Docker IDs still held are from containers
      // gone while this daemon was down (Unmount lost). A mount is never overridden, even by force (other hosts').
      const all = this.#refs.holders(name);
      const holders = o.caller === 'docker' ? all.filter((h) => h === 'cli') : all;
      if (holders.length > 0) {
        throw volumeInUse(name, holders);
      }
      if (all.length > 0) await found.driver.unmount(name);
      await found.driver.remove(name, { ...(o.force === true ? { force: true } : {}), ...(o.keepData === true ? { keepData: true } : {}) });
      await this.#refs.clear(name);
      this.#dockerKnows.delete(`${name}/${found.info.uuid}`);
    });
  }

  /** Mounts for a holder (a Docker mount ID, or 'cli'); the first holder mounts. */
  async mount(name: string, o: { id: string; caller: Caller; mountpoint?: string }): Promise<string> {
    validateVolumeName(name);
    return this.#lock.run(name, async () => {
      let found = await this.#find(name);
      if (found === undefined && o.caller === 'docker' && this.#opts.createOnDockerMount === true) {
        const driver = this.#driver(this.#default);
        found = { driver, info: await driver.create({ name, uuid: randomUUID(), options: {} }) };
      }
      if (found === undefined) throw await this.#missing(name);
      if (o.caller === 'docker') await this.#dockerReference(found.driver, found.info);
      const mp = await found.driver.mount(name, { mountpoint: o.mountpoint });
      await this.#refs.add(name, o.id);
      return mp;
    });
  }

  async unmount(name: string, o: { id: string }): Promise<void> {
    validateVolumeName(name);
    await this.#lock.run(name, async () => {
      const holders = this.#refs.holders(name);
      if (!holders.includes(o.id)) return; // unknown holder: nothing to do
      const last = await this.#refs.remove(name, o.id);
      if (!last) return;
      const found = await this.#find(name);
      if (found !== undefined) await found.driver.unmount(name);
    });
  }

  /** A volume by name, or undefined. Docker's lookups record that this host's Docker knows it. */
  async get(name: string, caller: Caller = 'cli'): Promise<ManagedVolume | undefined> {
    validateVolumeName(name);
    const found = await this.#find(name);
    if (found === undefined) return undefined;
    if (caller === 'docker') await this.#dockerReference(found.driver, found.info);
    return this.#managed(found.info);
  }

  /** Like get, but a missing volume is an error that says why (e.g. deleted by another host). */
  async require(nameOrUuid: string): Promise<ManagedVolume> {
    const byName = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(nameOrUuid) ? await this.get(nameOrUuid) : undefined;
    if (byName !== undefined) return byName;
    const byUuid = pickByUuidPrefix(await this.list(), nameOrUuid);
    if (byUuid !== undefined) return byUuid;
    throw await this.#missing(nameOrUuid);
  }

  /** Every volume; one whose record is corrupt is left out and reported in `problems`. */
  async list(): Promise<VolumeListing> {
    const volumes: ManagedVolume[] = [];
    const problems: Error[] = [];
    const onProblem = (err: Error): void => void problems.push(err);
    for (const d of this.#drivers.values()) for (const v of await d.list({ onProblem })) volumes.push(this.#managed(v));
    return { volumes: volumes.sort((a, b) => a.name.localeCompare(b.name)), problems };
  }

  // ---- snapshots -----------------------------------------------------------------------------

  async snapshotCreate(volume: string, name?: string): Promise<ManagedSnapshot> {
    const v = await this.require(volume);
    const snap = name ?? defaultSnapshotName(v.name);
    validateSnapshotName(snap);
    return this.#lock.run(v.name, async () => {
      if ((await this.#findSnapshot(snap, false)) !== undefined) {
        throw snapshotExists(snap);
      }
      return { ...(await this.#driver(v.driver).snapshotCreate(v.name, { name: snap, uuid: randomUUID() })), driver: v.driver };
    });
  }

  async snapshotDelete(name: string): Promise<void> {
    const s = await this.snapshotInspect(name);
    await this.#lock.run(s.volume, () => this.#driver(s.driver).snapshotDelete(s.volume, s.name));
  }

  /** Rolls the snapshot's volume back to it, in place; refused while the volume is mounted (here, or on another host). */
  async snapshotRestore(name: string): Promise<ManagedSnapshot> {
    const s = await this.snapshotInspect(name);
    const d = this.#driver(s.driver);
    if (d.snapshotRestore === undefined) throw cannotRollBack(s);
    await this.#lock.run(s.volume, async () => {
      const holders = this.#refs.holders(s.volume);
      if (holders.length > 0) throw volumeInUse(s.volume, holders);
      await d.snapshotRestore?.(s.volume, s.name);
    });
    return s;
  }

  /** A snapshot, with its volume's UUID and creation time (Rancher Convoy's inspect showed them). */
  async snapshotInspect(name: string): Promise<ManagedSnapshot> {
    validateSnapshotName(name);
    const s = await this.#findSnapshot(name, true);
    if (s === undefined) throw snapshotNotFound(name);
    const v = await this.get(s.volume);
    return v === undefined ? s : { ...s, volumeUuid: v.uuid, volumeCreatedAt: v.createdAt };
  }

  /** Snapshots of one volume or of all; those of unreadable records are left out and reported in `problems`. */
  async snapshotList(volume?: string): Promise<SnapshotListing> {
    const listed = volume === undefined ? await this.list() : { volumes: [await this.require(volume)], problems: [] };
    const snapshots: ManagedSnapshot[] = [];
    const problems = [...listed.problems];
    const onProblem = (err: Error): void => void problems.push(err);
    for (const v of listed.volumes)
      for (const s of await this.#driver(v.driver).snapshotList(v.name, { onProblem })) snapshots.push({ ...s, driver: v.driver });
    return { snapshots, problems };
  }

  // ---- backups -------------------------------------------------------------------------------

  async backupCreate(snapshot: string, dest: string, o: BackupCreateOptions = {}): Promise<{ url: string; id: string }> {
    const s = await this.snapshotInspect(snapshot);
    return backupSnapshot(this.#driver(s.driver), s, dest, { ...o, labels: backupLabels(s, o.labels) }, this.#opts.openStore);
  }

  backupInspect(url: string): Promise<InspectedBackup> {
    return backupInspect(url, this.#opts.openStore);
  }

  backupList(dest: string, volume?: string): Promise<BackupListing> {
    return backupList(dest, volume, this.#opts.openStore);
  }

  backupDelete(url: string): Promise<DeleteResult> {
    return backupDelete(url, this.#opts.openStore);
  }

  // ---- internals -----------------------------------------------------------------------------

  #driver(name: string): VolumeDriver {
    const d = this.#drivers.get(name);
    if (d === undefined) throw invalidRequest(`unknown driver "${name}"`, `this daemon runs: ${this.driverNames.join(', ')}`);
    return d;
  }

  #find(name: string): Promise<Found | undefined> {
    return findVolume(this.#drivers.values(), name);
  }

  async #findSnapshot(name: string, strict: boolean): Promise<ManagedSnapshot | undefined> {
    return pickSnapshot(await this.snapshotList(), name, strict);
  }

  #missing(name: string): Promise<VolumeError> {
    return missingVolume(this.#drivers.values(), name);
  }

  /** Records once per volume incarnation (a re-created name has a new UUID) that Docker here knows it. */
  async #dockerReference(driver: VolumeDriver, info: VolumeInfo): Promise<void> {
    const key = `${info.name}/${info.uuid}`;
    if (this.#dockerKnows.has(key) || driver.reference === undefined) return;
    await driver.reference(info.name);
    this.#dockerKnows.add(key);
  }

  #managed(info: VolumeInfo): ManagedVolume {
    return { ...info, mountedBy: this.#refs.holders(info.name) };
  }
}
