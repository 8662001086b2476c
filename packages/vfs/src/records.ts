// The records the vfs driver keeps under <base>/meta, which every host sharing the path reads and
// writes: their keys, their schemas, and one reader. A record that does not parse or fit its
// schema is CONVOY_RECORD_CORRUPT naming the file, never "absent": a corrupt lease must not read
// as "not mounted", nor a corrupt volume record as "no such volume".
import path from 'node:path';
import { readJsonRecord, type ObjectStore } from '@convoy/objectstore';
import { z } from 'zod';
import type { ListOptions } from '@convoy/volume-driver';
import { VfsError } from './errors.js';

const text = z.string().min(1);
const time = z.iso.datetime({ offset: true });

/** A host's mount of a volume (leases/) or its Docker's knowledge of it (refs/): the same shape. */
export const leaseSchema = z.object({ host: text, volume: text, uuid: z.uuid(), since: time });
export type Lease = z.infer<typeof leaseSchema>;

export const tombstoneSchema = z.object({ name: text, uuid: z.uuid(), deletedBy: text, deletedAt: time });

/** The directories this driver keeps under the base path: no adopted volume may be one of them. */
export const RESERVED_DIRS = ['meta', 'data', 'snapshots', 'trash'] as const;
/** An adopted volume's directory: one name under the base path (no "/", never "." or ".."). */
export const ADOPTED_DIR = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const adoptedDir = z
  .string()
  .regex(ADOPTED_DIR)
  .refine((d) => !d.includes('..') && !(RESERVED_DIRS as readonly string[]).includes(d), 'not a directory an adopted volume may have');

/**
 * A volume; its files are in data/<uuid> (a UUID, so a record can never point outside data/), or,
 * for a volume adopted from Rancher Convoy v0.5.2 (adopt.ts), in <base>/<adopted.dir>, where
 * Convoy kept them.
 */
export const volumeRecordSchema = z.object({
  name: text,
  uuid: z.uuid(),
  createdAt: time,
  createdBy: text,
  size: z.number().int().positive().optional(),
  /** 'creating' until its data is complete and synced (vfs-driver.ts create); absent in records older than that: ready. */
  state: z.enum(['creating', 'ready']).optional(),
  /** Adopted in place from Rancher Convoy v0.5.2: its directory, Convoy's record (relative to the base path), when and by which host. */
  adopted: z.object({ from: z.literal('rancher-convoy-v0.5.2'), dir: adoptedDir, config: text, at: time, by: text }).optional(),
});
export type VolumeRecord = z.infer<typeof volumeRecordSchema>;

export const snapshotRecordSchema = z.object({
  name: text,
  uuid: z.uuid(),
  volume: text,
  volumeUuid: z.uuid(),
  createdAt: time,
  /** The host that made it (absent in records older than the field). */
  createdBy: text.optional(),
  /** 'creating' until its copy is complete and in place (vfs-driver.ts snapshotCreate); absent in older records: ready. */
  state: z.enum(['creating', 'ready']).optional(),
});
export type SnapshotRecord = z.infer<typeof snapshotRecordSchema>;

/** A record as written: indented JSON and a newline (each write is atomic: FsObjectStore). */
export const recordBytes = (v: unknown): Buffer => Buffer.from(`${JSON.stringify(v, null, 1)}\n`);

export const volKey = (name: string): string => `volumes/${name}.json`;
export const snapKey = (volume: string, snap: string): string => `snapshots/${volume}/${snap}.json`;
export const leaseKey = (name: string, host: string): string => `leases/${name}/${host}.json`;
export const tombKey = (name: string): string => `tombstones/${name}.json`;
export const refKey = (name: string, host: string): string => `refs/${name}/${host}.json`;
/** A host's delete of the volume under way (written before it looks for leases; see vfs-driver.ts remove). */
export const deletingKey = (name: string, host: string): string => `deleting/${name}/${host}.json`;

/** What a record is, for its error message, and what to do when it is corrupt. */
export interface RecordKind {
  what: string;
  hint: string;
  /** What the record is about, for callers and logs (`volume`, `snapshot`, `host`). */
  about?: Record<string, string>;
}

export const LEASE = (host: string): RecordKind => ({
  what: `mount lease of host ${host}`,
  about: { host },
  hint: `host ${host} wrote it when it mounted the volume, so the volume may be in use there: check on ${host} (convoy list); once it is unmounted there, or that host is gone for good, remove the file`,
});

export const REFERENCE = (host: string): RecordKind => ({
  what: `Docker reference of host ${host}`,
  about: { host },
  hint: `host ${host} wrote it when its Docker learned of the volume: check on ${host} (docker volume ls); once its Docker no longer uses the volume (docker volume rm there), or that host is gone for good, remove the file`,
});

export const DELETING = (host: string): RecordKind => ({
  what: `delete in progress of host ${host}`,
  about: { host },
  hint: `host ${host} wrote it when it began deleting the volume, and removes it when done (or at its next start): if that host is gone for good, remove the file`,
});

export const VOLUME = (name: string, base: string): RecordKind => ({
  what: `record of volume ${name}`,
  about: { volume: name },
  hint: `repair the file (its fields: name, uuid, createdAt, createdBy), or move it out of ${path.join(base, 'meta', 'volumes')} to forget the volume (its files stay in ${path.join(base, 'data')})`,
});

export const SNAPSHOT = (volume: string, name: string): RecordKind => ({
  what: `record of snapshot ${name} of volume ${volume}`,
  about: { volume, snapshot: name },
  hint: 'repair the file (its fields: name, uuid, volume, volumeUuid, createdAt), or move it away to forget the snapshot',
});

export const DISPLACED = (name: string, base: string): RecordKind => ({
  what: `displaced record of volume ${name}`,
  about: { volume: name },
  hint: `two creates of ${name} raced and this record lost its name; its uuid names a data directory in ${path.join(base, 'data')} that is kept while the record is there: repair the record (its fields: name, uuid, createdAt, createdBy), or remove it once you no longer need that data`,
});

export const TOMBSTONE: RecordKind = {
  what: 'tombstone',
  hint: 'it only records who deleted the volume and when: remove the file',
};

export const isCorruptRecord = (err: unknown): err is VfsError => err instanceof VfsError && err.code === 'CONVOY_RECORD_CORRUPT';

/** The metadata objects of a vfs base path, read through their schemas. */
export class MetaRecords {
  readonly store: ObjectStore;
  readonly #root: string;

  /** `root` is the directory the store keeps its objects in (<base>/meta), for naming files. */
  constructor(store: ObjectStore, root: string) {
    this.store = store;
    this.#root = root;
  }

  /** Where an object is on disk. */
  file(key: string): string {
    return path.join(this.#root, ...key.split('/'));
  }

  corrupt(key: string, kind: RecordKind, reason: string): VfsError {
    const file = this.file(key);
    return new VfsError('CONVOY_RECORD_CORRUPT', `${kind.what} ${file} is corrupt: ${reason}`, {
      hint: kind.hint,
      details: { file, ...kind.about },
    });
  }

  /** The record under `key`, undefined if there is none; corrupt is an error naming the file. */
  async read<T>(key: string, schema: z.ZodType<T>, kind: RecordKind, check?: (record: T) => string | undefined): Promise<T | undefined> {
    return readJsonRecord(this.store, key, schema, (reason) => this.corrupt(key, kind, reason), { check });
  }

  /**
   * The leases (or Docker references) of a volume, one file per host: each must parse and name the
   * volume and host its file is for (a copied or misplaced file is corrupt, not another host's).
   */
  async leases(prefix: 'leases' | 'refs' | 'deleting', volume: string): Promise<Lease[]> {
    const out: Lease[] = [];
    for await (const o of this.store.list(`${prefix}/${volume}/`)) {
      const host = /^[^/]+\/[^/]+\/([^/]+)\.json$/.exec(o.key)?.[1];
      if (host === undefined) continue;
      const kind = prefix === 'leases' ? LEASE(host) : prefix === 'refs' ? REFERENCE(host) : DELETING(host);
      const lease = await this.read(o.key, leaseSchema, kind, (l) =>
        l.host === host && l.volume === volume
          ? undefined
          : `it says host ${JSON.stringify(l.host)} and volume ${JSON.stringify(l.volume)}, but it is the file of host ${host} for volume ${volume}`,
      );
      if (lease !== undefined) out.push(lease); // else removed since the listing
    }
    return out;
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
