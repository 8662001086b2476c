import { randomBytes, randomUUID } from 'node:crypto';
import {
  deleteBackup,
  listManifests,
  parseBackupUrl,
  readManifest,
  type DeleteResult,
  type Manifest,
  type Progress,
} from '@convoy/blockstore';
import { FsObjectStore, assertStoreExists, openStore, type ObjectStore } from '@convoy/objectstore';
import { isConvoyError } from '@convoy/errors';
import { KeyedLock } from '@convoy/daemon-kit';
import type { VolumeDriver, VolumeInfo } from '@convoy/volume-driver';
import { VolumeError, invalidRequest, snapshotNotFound, volumeExists, volumeNotFound } from './errors.js';
import { MountRefs } from './mount-refs.js';
import { parseSize, validateSnapshotName, validateVolumeName } from '@convoy/rules';
import type { Caller, CreateOptions, ManagedSnapshot, ManagedVolume, ManagerOptions, SnapshotListing, VolumeListing } from './types.js';

const DOCKER_OPTS = new Set(['size', 'backup', 'driver']);

type Found = { driver: VolumeDriver; info: VolumeInfo };

/**
 * The volume manager: drivers by name, names and UUIDs, one operation at a time per volume,
 * Docker mount reference counts that survive restarts, snapshots and backups across drivers.
 */
export class VolumeManager {
  readonly #drivers = new Map<string, VolumeDriver>();
  #default: string;
  readonly #unavailable: Record<string, { code?: string; message: string; hint?: string }> = {};
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
    for (const d of opts.drivers) {
      try {
        await d.start();
      } catch (err) {
        if (opts.drivers.length === 1) throw err;
        m.#drivers.delete(d.name);
        const e = err as { code?: string; message?: string; hint?: string };
        m.#unavailable[d.name] = { message: e.message ?? String(err), code: e.code, hint: e.hint };
        opts.onDriverUnavailable?.(d.name, err);
      }
    }
    const first = m.#drivers.keys().next().value;
    if (first === undefined) throw invalidRequest('no volume driver could start', 'see the errors above');
    if (!m.#drivers.has(m.#default)) m.#default = first;
    await m.#releaseUnheld();
    for (const name of m.#refs.volumes()) {
      let found: Found | undefined;
      try {
        found = await m.#find(name);
      } catch (err) {
        // Unreadable (a corrupt record): keep its mount references, so it is not deleted from
        // under its containers, and serve the other volumes.
        if (!(err instanceof Error) || opts.onProblem === undefined) throw err;
        opts.onProblem(err);
        continue;
      }
      if (found === undefined) {
        await m.#refs.clear(name);
        continue;
      }
      try {
        await found.driver.mount(name, {});
      } catch (err) {
        // Cannot be mounted again now (e.g. another host is deleting it, or its lease is corrupt):
        // keep its mount references, so it is not deleted from under its containers, and serve the others.
        if (!(err instanceof Error) || opts.onProblem === undefined) throw err;
        opts.onProblem(err);
      }
    }
    return m;
  }

  /**
   * At start: a volume mounted on this host that nobody holds (its mount or unmount was killed
   * between the driver's mount and the saved mount state) is unmounted. Else its lease on a shared
   * path would refuse every other host's delete of it for ever, naming this host.
   */
  async #releaseUnheld(): Promise<void> {
    const held = new Set(this.#refs.volumes());
    for (const d of this.#drivers.values()) {
      for (const v of await d.list({ onProblem: (err) => this.#opts.onProblem?.(err) })) {
        if (v.mountpoint !== undefined && !held.has(v.name)) await d.unmount(v.name);
      }
    }
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
    const opts = { ...o.options };
    const driverName = o.driver ?? opts.driver ?? this.#default;
    const sizeText = o.size ?? opts.size;
    const backup = o.backup ?? opts.backup;
    for (const k of DOCKER_OPTS) delete opts[k];
    const driver = this.#driver(driverName);
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
        options: opts,
        ...(sizeText === undefined ? {} : { size: typeof sizeText === 'number' ? sizeText : parseSize(sizeText) }),
      };
      if (backup === undefined) {
        const info = await driver.create(req);
        if (o.caller === 'docker') await this.#dockerReference(driver, info);
        return this.#managed(info);
      }
      const ref = parseBackupUrl(backup);
      const info = await this.#withStore(ref.storeUrl, 'existing', (store) =>
        driver.restore({ volume: req, store, backupVolume: ref.volume, backupId: ref.id, signal: o.signal, onProgress: o.onProgress }),
      );
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
      // Docker sends Remove only once no container uses the volume: Docker IDs still held are
      // from containers that went away while this daemon was down (their Unmount was lost).
      // A mount is never overridden, not even by force (force is for other hosts' references).
      const all = this.#refs.holders(name);
      const holders = o.caller === 'docker' ? all.filter((h) => h === 'cli') : all;
      if (holders.length > 0) {
        throw new VolumeError('CONVOY_VOLUME_IN_USE', `volume ${name} is mounted on this host (by ${holders.join(', ')})`, {
          hint: holders.includes('cli') ? `convoy umount ${name}` : 'stop the containers that use it',
        });
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
    const { volumes, problems } = await this.list();
    const matches = volumes.filter((v) => v.uuid.startsWith(nameOrUuid) && nameOrUuid.length >= 4);
    if (matches.length === 1) return matches[0] as ManagedVolume;
    if (matches.length > 1) throw invalidRequest(`"${nameOrUuid}" matches ${matches.length} volumes`, 'give more of the UUID, or the name');
    validateVolumeName(nameOrUuid);
    // a UUID prefix not among the readable volumes may be one that could not be read: say so
    if (problems[0] !== undefined && /^[0-9a-f-]{4,36}$/i.test(nameOrUuid)) throw problems[0];
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
    const snap =
      name ??
      `${v.name.slice(0, 80)}-snap-${new Date()
        .toISOString()
        .replace(/[-:.TZ]/g, '')
        .slice(0, 17)}-${randomBytes(2).toString('hex')}`;
    validateSnapshotName(snap);
    return this.#lock.run(v.name, async () => {
      if ((await this.#findSnapshot(snap, false)) !== undefined) {
        throw new VolumeError('CONVOY_SNAPSHOT_EXISTS', `snapshot ${snap} already exists`, {
          hint: 'snapshot names are unique across volumes: choose another',
        });
      }
      return { ...(await this.#driver(v.driver).snapshotCreate(v.name, { name: snap, uuid: randomUUID() })), driver: v.driver };
    });
  }

  async snapshotDelete(name: string): Promise<void> {
    const s = await this.snapshotInspect(name);
    await this.#lock.run(s.volume, () => this.#driver(s.driver).snapshotDelete(s.volume, s.name));
  }

  async snapshotInspect(name: string): Promise<ManagedSnapshot> {
    validateSnapshotName(name);
    const s = await this.#findSnapshot(name, true);
    if (s === undefined) throw snapshotNotFound(name);
    return s;
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

  async backupCreate(
    snapshot: string,
    dest: string,
    o: { signal?: AbortSignal; onProgress?: (p: Progress) => void; labels?: Record<string, string> } = {},
  ): Promise<{ url: string; id: string }> {
    const s = await this.snapshotInspect(snapshot);
    return this.#withStore(dest, 'create', (store) =>
      this.#driver(s.driver).backup({
        volume: s.volume,
        snapshot: s.name,
        store,
        labels: o.labels,
        signal: o.signal,
        onProgress: o.onProgress,
      }),
    );
  }

  async backupInspect(url: string): Promise<Manifest> {
    const ref = parseBackupUrl(url);
    return this.#withStore(ref.storeUrl, 'existing', (store) => readManifest(store, ref.volume, ref.id));
  }

  async backupList(dest: string, volume?: string): Promise<Manifest[]> {
    return this.#withStore(dest, 'existing', (store) => listManifests(store, volume));
  }

  async backupDelete(url: string): Promise<DeleteResult> {
    const ref = parseBackupUrl(url);
    return this.#withStore(ref.storeUrl, 'existing', (store) => deleteBackup({ store, volume: ref.volume, id: ref.id }));
  }

  // ---- internals -----------------------------------------------------------------------------

  #driver(name: string): VolumeDriver {
    const d = this.#drivers.get(name);
    if (d === undefined) throw invalidRequest(`unknown driver "${name}"`, `this daemon runs: ${this.driverNames.join(', ')}`);
    return d;
  }

  async #find(name: string): Promise<Found | undefined> {
    for (const driver of this.#drivers.values()) {
      const info = await driver.get(name);
      if (info !== undefined) return { driver, info };
    }
    return undefined;
  }

  /**
   * A snapshot by name. Not found while that snapshot's record is corrupt is that error; with
   * `strict` (inspect, delete), so is any unreadable record (it may hold the snapshot). Without
   * (create's check that the name is free), other unreadable records do not block.
   */
  async #findSnapshot(name: string, strict: boolean): Promise<ManagedSnapshot | undefined> {
    const { snapshots, problems } = await this.snapshotList();
    const found = snapshots.find((s) => s.name === name);
    if (found !== undefined) return found;
    const about = problems.find((p) => isConvoyError(p) && p.details?.snapshot === name) ?? (strict ? problems[0] : undefined);
    if (about !== undefined) throw about;
    return undefined;
  }

  /** The error for a volume that is not there, with the story if a driver knows it (deleted elsewhere). */
  async #missing(name: string): Promise<VolumeError> {
    for (const d of this.#drivers.values()) {
      const t = await d.tombstone?.(name);
      if (t !== undefined) {
        return new VolumeError('CONVOY_VOLUME_DELETED', `volume ${name} was deleted by host ${t.deletedBy} at ${t.deletedAt}`, {
          hint: `run \`docker volume rm -f ${name}\` here to drop the stale reference (then re-create it if you need it)`,
          details: { volume: name, deletedBy: t.deletedBy, deletedAt: t.deletedAt },
        });
      }
    }
    return volumeNotFound(name);
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

  /**
   * Runs `work` on the backup store `url` names, closing it after. Only `create` (a backup to it)
   * may make a vfs store that is not there yet; `existing` is CONVOY_STORE_NOT_FOUND then.
   */
  async #withStore<T>(url: string, mode: 'create' | 'existing', work: (store: ObjectStore) => Promise<T>): Promise<T> {
    if (mode === 'existing') await assertStoreExists(url);
    const store = await (this.#opts.openStore ?? ((u: string) => openStore(u)))(url);
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  }
}
