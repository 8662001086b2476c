// A vfs volume's record through its life: claimed (`creating`), finished (`ready`), or abandoned;
// read back through its schema; refused for use while unfinished.
import fs from 'node:fs/promises';
import path from 'node:path';
import { ObjectExistsError } from '@convoy/objectstore';
import type { CreateVolumeRequest, ListOptions } from '@convoy/volume-driver';
import { VfsError } from './errors.js';
import { TOMBSTONE, VOLUME, isCorruptRecord, recordBytes, tombKey, tombstoneSchema, volKey, volumeRecordSchema, type MetaRecords, type VolumeRecord } from './records.js';

export interface VolumeRecordsOptions {
  meta: MetaRecords;
  basePath: string;
  hostId: string;
  now: () => Date;
  /** Removes a directory (through trash/). */
  discard: (dir: string) => Promise<void>;
}

/**
 * Creation is ordered so that a crash at any point leaves what start() recognises (reconcile.ts):
 * `begin` claims the name with a record marked `creating` (only-if-absent: atomic across hosts),
 * then makes the data directory; the caller fills it (a restore) and syncs it; only then does
 * `finish` mark the record `ready`. An unfinished volume cannot be mounted or snapshotted, and the
 * host that began it removes it at its next start.
 */
export class VolumeRecords {
  readonly #o: VolumeRecordsOptions;

  constructor(options: VolumeRecordsOptions) {
    this.#o = options;
  }

  /** Where a volume's files are: data/<uuid>. */
  dataDir(uuid: string): string {
    return path.join(this.#o.basePath, 'data', uuid);
  }

  read(name: string): Promise<VolumeRecord | undefined> {
    return this.#o.meta.read(volKey(name), volumeRecordSchema, VOLUME(name, this.#o.basePath), (r) => (r.name === name ? undefined : `it is the record of volume ${JSON.stringify(r.name)}`));
  }

  /** Every record; a corrupt one goes to onProblem (when given) and is left out, else it throws. */
  async all(options: ListOptions = {}): Promise<VolumeRecord[]> {
    const out: VolumeRecord[] = [];
    for await (const o of this.#o.meta.store.list('volumes/')) {
      const name = /^volumes\/(.+)\.json$/.exec(o.key)?.[1];
      if (name === undefined) continue;
      const rec = await skipCorrupt(this.read(name), options);
      if (rec !== undefined) out.push(rec);
    }
    return out;
  }

  /** The record, or not found (saying who deleted it and when, if a tombstone says so). */
  async require(name: string): Promise<VolumeRecord> {
    const rec = await this.read(name);
    if (rec !== undefined) return rec;
    const t = await this.#o.meta.read(tombKey(name), tombstoneSchema, TOMBSTONE);
    throw new VfsError(
      'CONVOY_VOLUME_NOT_FOUND',
      t === undefined ? `volume ${name} does not exist` : `volume ${name} was deleted by host ${t.deletedBy} at ${t.deletedAt}`,
      { hint: t === undefined ? 'convoy list shows the volumes' : `run \`docker volume rm -f ${name}\` on this host to drop the stale reference`, details: { volume: name } },
    );
  }

  /** The record of a finished volume; an unfinished one (its data is not all there yet) is refused. */
  async finished(name: string): Promise<VolumeRecord> {
    const rec = await this.require(name);
    if (rec.state !== 'creating') return rec;
    const here = rec.createdBy === this.#o.hostId;
    throw new VfsError('CONVOY_VOLUME_INCOMPLETE', `volume ${name} is not finished: host ${rec.createdBy} began creating it at ${rec.createdAt} and has not finished`, {
      hint: here
        ? 'it is being created on this host: wait for `convoy create` to finish (convoy list shows it as creating until then)'
        : `wait for its creation on ${rec.createdBy} to finish; if that host stopped for good, \`convoy delete ${name}\` and create it again (its own restart also removes it)`,
      details: { volume: name, createdBy: rec.createdBy },
    });
  }

  /** Claims the name (record `creating`), then makes the empty data directory. */
  async begin(req: CreateVolumeRequest): Promise<VolumeRecord> {
    const rec: VolumeRecord = { name: req.name, uuid: req.uuid, createdAt: this.#o.now().toISOString(), createdBy: this.#o.hostId, state: 'creating' };
    if (req.size !== undefined) rec.size = req.size;
    try {
      await this.#o.meta.store.put(volKey(req.name), recordBytes(rec), { ifAbsent: true });
    } catch (err) {
      if (err instanceof ObjectExistsError) {
        throw new VfsError('CONVOY_VOLUME_EXISTS', `volume ${req.name} already exists`, { hint: 'choose another name, or delete the old volume first' });
      }
      throw err;
    }
    try {
      await fs.mkdir(this.dataDir(req.uuid), { mode: 0o755 });
    } catch (err) {
      await this.abandon(rec).catch(() => undefined);
      throw err;
    }
    return rec;
  }

  /** Marks a begun volume ready, if it is still this creation's (another host may have deleted it meanwhile). */
  async finish(rec: VolumeRecord): Promise<VolumeRecord> {
    if ((await this.read(rec.name))?.uuid !== rec.uuid) {
      throw new VfsError('CONVOY_VOLUME_DELETED', `volume ${rec.name} was deleted while it was being created`, { hint: 'create it again' });
    }
    const ready: VolumeRecord = { ...rec, state: 'ready' };
    await this.#o.meta.store.put(volKey(rec.name), recordBytes(ready));
    await this.#o.meta.store.delete([tombKey(rec.name)]);
    return ready;
  }

  /** Removes an unfinished volume: its record (if still this one's) and its data directory. */
  async abandon(rec: VolumeRecord): Promise<void> {
    if ((await this.read(rec.name))?.uuid === rec.uuid) await this.#o.meta.store.delete([volKey(rec.name)]);
    await this.#o.discard(this.dataDir(rec.uuid));
  }
}

/** A record read for a listing: a corrupt one goes to onProblem (when given) and is left out. */
export async function skipCorrupt<T>(reading: Promise<T | undefined>, options: ListOptions): Promise<T | undefined> {
  try {
    return await reading;
  } catch (err) {
    if (options.onProblem === undefined || !isCorruptRecord(err)) throw err;
    options.onProblem(err);
    return undefined;
  }
}
