// A vfs volume's record through its life: claimed (`creating`), finished (`ready`), or abandoned;
// read back through its schema; refused for use while unfinished.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ObjectExistsError, parseJsonBytes } from '@convoy/objectstore';
import type { CreateVolumeRequest, ListOptions } from '@convoy/volume-driver';
import { VfsError } from './errors.js';
import {
  DISPLACED,
  TOMBSTONE,
  VOLUME,
  isCorruptRecord,
  recordBytes,
  tombKey,
  tombstoneSchema,
  volKey,
  volumeRecordSchema,
  type MetaRecords,
  type VolumeRecord,
} from './records.js';

export interface VolumeRecordsOptions {
  meta: MetaRecords;
  basePath: string;
  hostId: string;
  now: () => Date;
  /** Removes a directory (through trash/). */
  discard: (dir: string) => Promise<void>;
  /** A directory of this host on the base path's filesystem (its trash), where `swap` takes records to. */
  scratch: string;
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
    return this.#o.meta.read(volKey(name), volumeRecordSchema, VOLUME(name, this.#o.basePath), (r) =>
      r.name === name ? undefined : `it is the record of volume ${JSON.stringify(r.name)}`,
    );
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
      {
        hint:
          t === undefined
            ? 'convoy list shows the volumes'
            : `run \`docker volume rm -f ${name}\` on this host to drop the stale reference`,
        details: { volume: name },
      },
    );
  }

  /** The record of a finished volume; an unfinished one (its data is not all there yet) is refused. */
  async finished(name: string): Promise<VolumeRecord> {
    const rec = await this.require(name);
    if (rec.state !== 'creating') return rec;
    const here = rec.createdBy === this.#o.hostId;
    throw new VfsError(
      'CONVOY_VOLUME_INCOMPLETE',
      `volume ${name} is not finished: host ${rec.createdBy} began creating it at ${rec.createdAt} and has not finished`,
      {
        hint: here
          ? 'it is being created on this host: wait for `convoy create` to finish (convoy list shows it as creating until then)'
          : `wait for its creation on ${rec.createdBy} to finish; if that host stopped for good, \`convoy delete ${name}\` and create it again (its own restart also removes it)`,
        details: { volume: name, createdBy: rec.createdBy },
      },
    );
  }

  /** Claims the name (record `creating`), then makes the empty data directory. */
  async begin(req: CreateVolumeRequest): Promise<VolumeRecord> {
    const rec: VolumeRecord = {
      name: req.name,
      uuid: req.uuid,
      createdAt: this.#o.now().toISOString(),
      createdBy: this.#o.hostId,
      state: 'creating',
    };
    if (req.size !== undefined) rec.size = req.size;
    try {
      await this.#o.meta.store.put(volKey(req.name), recordBytes(rec), { ifAbsent: true });
    } catch (err) {
      if (err instanceof ObjectExistsError) {
        throw new VfsError('CONVOY_VOLUME_EXISTS', `volume ${req.name} already exists`, {
          hint: 'choose another name, or delete the old volume first',
        });
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
    const ready: VolumeRecord = { ...rec, state: 'ready' };
    if (!(await this.swap(rec, ready))) {
      throw new VfsError(
        'CONVOY_VOLUME_DELETED',
        `volume ${rec.name} was deleted (or created anew by another host) while it was being created`,
        { hint: 'convoy list shows the volumes; create it again if it is not there' },
      );
    }
    await this.#o.meta.store.delete([tombKey(rec.name)]);
    return ready;
  }

  /** Removes an unfinished volume: its record (if still this one's) and its data directory. */
  async abandon(rec: VolumeRecord): Promise<void> {
    await this.swap(rec, undefined);
    await this.#o.discard(this.dataDir(rec.uuid));
  }

  /**
   * Replaces the record of `rec.name` by `next` (or removes it) only if it is still `rec`'s volume
   * (same UUID), against every host: a hard link to the record file captures it without freeing
   * the name and is checked; only if it is `rec`'s is the file taken away by rename(2) (one host
   * wins) and compared with the capture (same inode: nobody replaced it in between); then `next` is
   * linked into place only-if-absent. Answers false if the record is gone or is another volume's —
   * which is never overwritten or removed, as a read-then-write would when another host deletes
   * and re-creates the name in between. Between the take and the link the name has no record for
   * a moment: a create of the same name may claim it then, and this swap answers false.
   */
  async swap(rec: VolumeRecord, next: VolumeRecord | undefined): Promise<boolean> {
    const key = volKey(rec.name);
    const file = this.#o.meta.file(key);
    const probe = path.join(this.#o.scratch, `probe-${randomUUID()}.json`);
    const taken = path.join(this.#o.scratch, `record-${rec.uuid}-${randomUUID()}.json`);
    try {
      await fs.link(file, probe);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    try {
      if (uuidIn(await fs.readFile(probe)) !== rec.uuid) return false;
      try {
        await fs.rename(file, taken);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // another host took it first
        throw err;
      }
      if ((await fs.stat(taken)).ino !== (await fs.stat(probe)).ino) {
        // replaced between the capture and the take (deleted and created again by others): put it back
        await this.#putBack(key, await fs.readFile(taken), rec.name);
        await fs.rm(taken, { force: true });
        return false;
      }
      let swapped = true;
      if (next !== undefined) {
        try {
          await this.#o.meta.store.put(key, recordBytes(next), { ifAbsent: true });
        } catch (err) {
          if (!(err instanceof ObjectExistsError)) {
            await this.#putBack(key, await fs.readFile(taken), rec.name);
            await fs.rm(taken, { force: true });
            throw err;
          }
          swapped = false; // a create claimed the name in the moment it had no record
        }
      }
      await fs.rm(taken, { force: true });
      return swapped;
    } finally {
      await fs.rm(probe, { force: true });
    }
  }

  /**
   * At start, before this host's trash is emptied: a record a `swap` had taken when the host was
   * killed. One of the volume the swap was for (its UUID is in the file name) was being finished,
   * abandoned or deleted: it stays gone (its directory is then unnamed and removed). Another
   * volume's record, taken by mistake in the instant before the swap saw the inode change, goes
   * back, so that volume is not lost.
   */
  async restoreTaken(): Promise<void> {
    for (const e of await fs.readdir(this.#o.scratch)) {
      const m = /^record-([0-9a-f-]{36})-.*\.json$/.exec(e);
      if (m === null) continue;
      const bytes = await fs.readFile(path.join(this.#o.scratch, e));
      const parsed = volumeRecordSchema.safeParse(
        (() => {
          try {
            return parseJsonBytes(bytes);
          } catch {
            return undefined;
          }
        })(),
      );
      if (parsed.success && parsed.data.uuid !== m[1]) {
        const current = await this.read(parsed.data.name).catch(() => undefined);
        if (current?.uuid !== parsed.data.uuid)
          await this.#putBack(volKey(parsed.data.name), bytes, parsed.data.name).catch(() => undefined);
      }
      await fs.rm(path.join(this.#o.scratch, e), { force: true });
    }
  }

  /**
   * UUIDs of records moved to meta/displaced/ (see #putBack): their data directories are kept. A
   * corrupt one is CONVOY_RECORD_CORRUPT (start then removes no directory): its uuid is unknown,
   * and reading it as absent would let its data directory be removed as an orphan.
   */
  async displaced(): Promise<string[]> {
    const out: string[] = [];
    for await (const o of this.#o.meta.store.list('displaced/')) {
      const name = o.key.split('/')[1] ?? '?';
      const rec = await this.#o.meta.read(o.key, volumeRecordSchema, DISPLACED(name, this.#o.basePath));
      if (rec !== undefined) out.push(rec.uuid);
    }
    return out;
  }

  /** Puts back a record `swap` took that was not the one it wanted. */
  async #putBack(key: string, bytes: Buffer, name: string): Promise<void> {
    try {
      await this.#o.meta.store.put(key, bytes, { ifAbsent: true });
    } catch (err) {
      if (!(err instanceof ObjectExistsError)) throw err;
      // A create claimed the name in the instant it had no record: keep the displaced record where
      // an operator finds it (its data directory stays: see reconcile.ts), and say so.
      const kept = `displaced/${name}/${randomUUID()}.json`;
      await this.#o.meta.store.put(kept, bytes);
      throw new VfsError(
        'CONVOY_VOLUME_CONFLICT',
        `two volumes named ${name} were created at once on the shared path; the record of one was moved to ${this.#o.meta.file(kept)}`,
        {
          hint: 'see which of them holds the data you want (the uuid in each record names its data directory), then delete the other and move the kept record back to meta/volumes/ under the name it says',
          details: { volume: name, file: this.#o.meta.file(kept) },
        },
      );
    }
  }
}

/** The `uuid` a record's bytes say, if they parse. */
function uuidIn(bytes: Buffer): unknown {
  try {
    return (parseJsonBytes(bytes) as { uuid?: unknown }).uuid;
  } catch {
    return undefined;
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
