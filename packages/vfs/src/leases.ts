// Which hosts mount a vfs volume (leases/), whose Docker knows it (refs/), and who is deleting it
// (deleting/): the records through which hosts sharing a base path keep a mounted volume from
// being deleted. The argument is in docs/vfs-shared-path.md; each record is read through its zod
// schema, and a corrupt one is an error (never "not mounted").
import type { ObjectStore } from '@convoy/objectstore';
import { VfsError } from './errors.js';
import {
  LEASE,
  deletingKey,
  leaseKey,
  leaseSchema,
  recordBytes,
  refKey,
  type Lease,
  type MetaRecords,
  type VolumeRecord,
} from './records.js';

export interface LeasesOptions {
  store: ObjectStore;
  records: MetaRecords;
  hostId: string;
  now: () => Date;
}

export class Leases {
  readonly #o: LeasesOptions;

  constructor(options: LeasesOptions) {
    this.#o = options;
  }

  /** This host's record of kind `prefix` for the volume `rec`, as written now. */
  #mine(key: string, rec: VolumeRecord): Promise<void> {
    const lease: Lease = { host: this.#o.hostId, volume: rec.name, uuid: rec.uuid, since: this.#o.now().toISOString() };
    return this.#o.store.put(key, recordBytes(lease));
  }

  /** Hosts that have the volume mounted; a corrupt lease is an error. */
  leases(name: string): Promise<Lease[]> {
    return this.#o.records.leases('leases', name);
  }

  /** Hosts whose Docker knows the volume; a corrupt reference is an error. */
  references(name: string): Promise<Lease[]> {
    return this.#o.records.leases('refs', name);
  }

  /** Whether this host holds a lease on this incarnation of the volume. */
  async holds(rec: VolumeRecord): Promise<boolean> {
    const own = await this.#o.records.read(leaseKey(rec.name, this.#o.hostId), leaseSchema, LEASE(this.#o.hostId));
    return own?.uuid === rec.uuid;
  }

  /** Whether this host's lease file of the volume exists (for `mountpoint` in listings: no read). */
  async leased(name: string): Promise<boolean> {
    return (await this.#o.store.stat(leaseKey(name, this.#o.hostId))) !== undefined;
  }

  /**
   * Takes this host's lease, then makes sure the volume is still `rec` and no delete of it began
   * meanwhile (`stillThere` re-reads the record); on a refusal the lease is dropped again.
   */
  async take(rec: VolumeRecord, stillThere: () => Promise<boolean>): Promise<void> {
    await this.refuseIfDeleting(rec);
    await this.#mine(leaseKey(rec.name, this.#o.hostId), rec);
    try {
      if (!(await stillThere())) {
        throw new VfsError('CONVOY_VOLUME_DELETED', `volume ${rec.name} was deleted while it was being mounted`, {
          hint: 'convoy list shows the volumes',
          details: { volume: rec.name },
        });
      }
      await this.refuseIfDeleting(rec);
    } catch (err) {
      await this.release(rec.name).catch(() => undefined);
      throw err;
    }
  }

  release(name: string): Promise<void> {
    return this.#o.store.delete([leaseKey(name, this.#o.hostId)]);
  }

  /** Records that this host's Docker knows the volume. */
  reference(rec: VolumeRecord): Promise<void> {
    return this.#mine(refKey(rec.name, this.#o.hostId), rec);
  }

  /** Runs a delete of `rec` with this host's intent recorded for its whole length (deleting/<name>/<host>.json). */
  async whileDeleting<T>(rec: VolumeRecord, work: () => Promise<T>): Promise<T> {
    await this.#mine(deletingKey(rec.name, this.#o.hostId), rec);
    try {
      return await work();
    } finally {
      await this.#o.store.delete([deletingKey(rec.name, this.#o.hostId)]);
    }
  }

  /**
   * At start: removes the delete intents this host wrote and never removed (it was killed
   * mid-delete). Left, each would refuse every host's mount of that volume for good.
   */
  async clearOwnIntents(): Promise<void> {
    for await (const o of this.#o.store.list('deleting/'))
      if (o.key.endsWith(`/${this.#o.hostId}.json`)) await this.#o.store.delete([o.key]);
  }

  /** CONVOY_VOLUME_DELETING when another host records a delete of this incarnation of the volume. */
  async refuseIfDeleting(rec: VolumeRecord): Promise<void> {
    const name = rec.name;
    const deleting = (await this.#o.records.leases('deleting', name)).filter((d) => d.host !== this.#o.hostId && d.uuid === rec.uuid);
    if (deleting.length === 0) return;
    const h = deleting.map((d) => `${d.host} (since ${d.since})`).join(', ');
    const files = deleting.map((d) => this.#o.records.file(deletingKey(name, d.host))).join(', ');
    throw new VfsError('CONVOY_VOLUME_DELETING', `volume ${name} is being deleted by ${h}`, {
      hint: `try again: if that delete is refused (the volume is in use), the volume stays. If that host stopped for good, remove ${files}`,
      details: { volume: name, hosts: deleting.map((d) => d.host) },
    });
  }

  /**
   * CONVOY_VOLUME_IN_USE when another host mounts this incarnation (never overridden, not even by
   * force: its containers write there); CONVOY_VOLUME_REFERENCED, unless `force`, when another
   * host's Docker knows it.
   */
  async refuseIfHeld(rec: VolumeRecord, force: boolean): Promise<void> {
    const { name, uuid } = rec;
    const others = (await this.leases(name)).filter((l) => l.host !== this.#o.hostId && l.uuid === uuid);
    if (others.length > 0) {
      const h = others.map((l) => `${l.host} (since ${l.since})`).join(', ');
      const files = others.map((l) => this.#o.records.file(leaseKey(name, l.host))).join(', ');
      throw new VfsError('CONVOY_VOLUME_IN_USE', `volume ${name} is mounted on ${h}`, {
        hint: `unmount it there first (stop its containers there); --force does not override a mount. If that host is gone for good, remove its lease ${files} and delete again`,
        details: { volume: name, hosts: others.map((l) => l.host) },
      });
    }
    const knownBy = (await this.references(name)).filter(
      (r) => r.host !== this.#o.hostId && r.uuid === uuid && !others.some((l) => l.host === r.host),
    );
    if (knownBy.length > 0 && !force) {
      const h = knownBy.map((r) => r.host).join(', ');
      throw new VfsError(
        'CONVOY_VOLUME_REFERENCED',
        `volume ${name} is still known to Docker on ${h} (a container there may use it again)`,
        {
          hint: `run \`docker volume rm ${name}\` on ${h} first, or delete with --force (\`convoy delete --force ${name}\`, then \`docker volume rm -f ${name}\` here): Docker on ${h} then reports that this host deleted it, and when`,
          details: { volume: name, hosts: knownBy.map((r) => r.host) },
        },
      );
    }
  }

  /** Deletes every host's lease and reference of this incarnation of the volume; unreadable ones are left alone. */
  async dropAll(rec: VolumeRecord): Promise<void> {
    const keys: string[] = [];
    for (const prefix of ['leases', 'refs']) {
      for await (const o of this.#o.store.list(`${prefix}/${rec.name}/`)) {
        const l = await this.#o.records.read(o.key, leaseSchema, LEASE('?')).catch(() => undefined);
        if (l?.uuid === rec.uuid) keys.push(o.key);
      }
    }
    await this.#o.store.delete(keys);
  }
}
