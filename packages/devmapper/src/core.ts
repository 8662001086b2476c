import type { DmApi } from './dm-api.js';
import { snapshotNotFound, volumeNotFound } from './errors.js';
import type { HostOps } from './host-ops.js';
import type { DevmapperDriverOptions, FaultStep, ResolvedOptions } from './options.js';
import type { ThinPool } from './pool.js';
import type { DriverState, PendingOp, SnapshotRecord, StateFile, VolumeRecord } from './state.js';

/**
 * What the driver's parts share: options, ports, the pool, the durable state and one lock that
 * serialises every state change and device-mapper step (data transfers run outside it).
 */
export class DriverCore {
  readonly o: ResolvedOptions;
  readonly dm: DmApi;
  readonly host: HostOps;
  readonly pool: ThinPool;
  readonly file: StateFile;
  state: DriverState;
  readonly now: () => Date;
  readonly #log: DevmapperDriverOptions['log'];
  readonly #faults: DevmapperDriverOptions['faults'];
  /** Snapshots read by a backup right now ("volume/snapshot"); they cannot be deleted meanwhile. */
  readonly busy = new Set<string>();
  #tail: Promise<void> = Promise.resolve();

  constructor(init: {
    o: ResolvedOptions;
    dm: DmApi;
    host: HostOps;
    pool: ThinPool;
    file: StateFile;
    state: DriverState;
    options: DevmapperDriverOptions;
  }) {
    this.o = init.o;
    this.dm = init.dm;
    this.host = init.host;
    this.pool = init.pool;
    this.file = init.file;
    this.state = init.state;
    this.now = init.options.now ?? (() => new Date());
    this.#log = init.options.log;
    this.#faults = init.options.faults;
  }

  /** Runs `fn` alone (after every earlier call has finished). */
  async lock<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  save(): Promise<void> {
    return this.file.save(this.state);
  }

  log(level: 'info' | 'warn', message: string): void {
    this.#log?.(level, message);
  }

  async fault(step: FaultStep): Promise<void> {
    await this.#faults?.(step);
  }

  volume(name: string): VolumeRecord {
    const v = this.state.volumes[name];
    if (v === undefined) throw volumeNotFound(name);
    return v;
  }

  snapshot(volume: string, snapshot: string): { v: VolumeRecord; s: SnapshotRecord } {
    const v = this.volume(volume);
    const s = v.snapshots[snapshot];
    if (s === undefined) throw snapshotNotFound(volume, snapshot);
    return { v, s };
  }

  /** A volume of that name exists, or is being created or restored. */
  nameTaken(name: string): boolean {
    return this.state.volumes[name] !== undefined || this.state.pending.some((p) => p.op === 'create' && p.volume === name);
  }

  /** dm device name of an activated volume. */
  volumeDevice(id: number): string {
    return `${this.o.thinPoolName}-vol-${id}`;
  }

  /** dm device name of a snapshot activated read-only for a backup. */
  snapshotDevice(id: number): string {
    return `${this.o.thinPoolName}-snap-${id}`;
  }

  /** Records an operation before its first step (durably). */
  async journal(op: PendingOp): Promise<void> {
    this.state.pending.push(op);
    await this.save();
  }

  /** Drops a finished operation from the journal (the caller saves, usually with its result). */
  unjournal(deviceId: number): void {
    this.state.pending = this.state.pending.filter((p) => p.deviceId !== deviceId);
  }

  /**
   * Finishes a journaled operation that did not complete: removes its thin device — deactivated,
   * its origin resumed if a crash left that suspended, deleted from the pool — and drops it from
   * the journal. For `create`/`snapshot` that is a roll-back (no record was written), for `delete`
   * a roll-forward (the record was removed before the device).
   */
  async settle(op: PendingOp): Promise<void> {
    await this.pool.deactivate(this.volumeDevice(op.deviceId));
    await this.pool.deactivate(this.snapshotDevice(op.deviceId));
    if (op.op === 'snapshot') {
      const origin = await this.dm.info(this.volumeDevice(op.origin));
      if (origin.exists && origin.suspended) await this.dm.resume(this.volumeDevice(op.origin));
    }
    await this.pool.deleteThin(op.deviceId, true);
    this.unjournal(op.deviceId);
    await this.save();
  }
}
