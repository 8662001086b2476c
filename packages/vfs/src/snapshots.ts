// A vfs volume's snapshots: point-in-time copies under <base>/snapshots/<uuid>, with a record each
// under meta/snapshots/<volume>/<name>.json (claimed `creating` first, like a volume's).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execQuiet as run } from '@convoy/daemon-kit';
import { ObjectExistsError } from '@convoy/objectstore';
import type { ListOptions, SnapshotInfo } from '@convoy/volume-driver';
import { VfsError } from './errors.js';
import { SNAPSHOT, recordBytes, skipCorrupt, snapKey, snapshotRecordSchema, type MetaRecords, type SnapshotRecord } from './records.js';
import type { VolumeRecords } from './volume-records.js';

export interface SnapshotsOptions {
  meta: MetaRecords;
  volumes: VolumeRecords;
  basePath: string;
  hostId: string;
  now: () => Date;
  /** Removes a directory (through trash/). */
  discard: (dir: string) => Promise<void>;
  /** This host's trash: copies are made there, then renamed into place. */
  scratch: string;
}

export class Snapshots {
  readonly #o: SnapshotsOptions;

  constructor(options: SnapshotsOptions) {
    this.#o = options;
  }

  /** Where a snapshot's files are: snapshots/<uuid>. */
  dir(uuid: string): string {
    return path.join(this.#o.basePath, 'snapshots', uuid);
  }

  /**
   * A point-in-time copy of the volume directory. The record comes first, marked `creating`
   * (only-if-absent: it claims the name on every host); then `cp -a --reflink=auto` (instant on
   * btrfs/XFS, a full copy elsewhere) into this host's trash, renamed into place when complete;
   * then the record says `ready`. A crash at any point leaves what start() removes (reconcile.ts):
   * this host's `creating` record, or a directory no record names. Never a half snapshot.
   */
  async create(volume: string, snapshot: { name: string; uuid: string }): Promise<SnapshotInfo> {
    const rec = await this.#o.volumes.finished(volume);
    const key = snapKey(volume, snapshot.name);
    const s: SnapshotRecord = {
      name: snapshot.name,
      uuid: snapshot.uuid,
      volume,
      volumeUuid: rec.uuid,
      createdAt: this.#o.now().toISOString(),
      createdBy: this.#o.hostId,
      state: 'creating',
    };
    try {
      await this.#o.meta.store.put(key, recordBytes(s), { ifAbsent: true });
    } catch (err) {
      if (err instanceof ObjectExistsError)
        throw new VfsError('CONVOY_SNAPSHOT_EXISTS', `snapshot ${snapshot.name} of ${volume} already exists`, {
          hint: 'choose another snapshot name',
        });
      throw err;
    }
    const final = this.dir(snapshot.uuid);
    const tmp = path.join(this.#o.scratch, `snap-${snapshot.uuid}-${randomBytes(4).toString('hex')}`);
    try {
      await run('cp', ['-a', '--reflink=auto', '--', this.#o.volumes.dataDir(rec), tmp]);
      await fs.rename(tmp, final);
      // still this snapshot's record? (a delete of the volume on another host may have taken it)
      if ((await this.read(volume, snapshot.name))?.uuid !== snapshot.uuid) {
        throw new VfsError('CONVOY_VOLUME_DELETED', `volume ${volume} was deleted while snapshot ${snapshot.name} was being taken`, {
          hint: 'convoy list shows the volumes',
        });
      }
      await this.#o.meta.store.put(key, recordBytes({ ...s, state: 'ready' }));
    } catch (err) {
      if ((await this.read(volume, snapshot.name).catch(() => undefined))?.uuid === snapshot.uuid)
        await this.#o.meta.store.delete([key]).catch(() => undefined);
      await this.#o.discard(final).catch(() => undefined);
      await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
    return { name: s.name, uuid: s.uuid, volume, createdAt: s.createdAt };
  }

  async delete(volume: string, snapshot: string): Promise<void> {
    const s = await this.require(volume, snapshot);
    await this.#o.meta.store.delete([snapKey(volume, snapshot)]);
    await this.#o.discard(this.dir(s.uuid));
  }

  /** The volume's snapshots; records left by an earlier volume of the same name (a delete killed halfway) are not its. */
  async list(volume: string, options: ListOptions = {}): Promise<SnapshotInfo[]> {
    const out: SnapshotInfo[] = [];
    const rec = await skipCorrupt(this.#o.volumes.read(volume), options);
    for await (const o of this.#o.meta.store.list(`snapshots/${volume}/`)) {
      const name = /^snapshots\/[^/]+\/(.+)\.json$/.exec(o.key)?.[1];
      if (name === undefined) continue;
      const s = await skipCorrupt(this.read(volume, name), options);
      if (s !== undefined && (rec === undefined || s.volumeUuid === rec.uuid))
        out.push({
          name: s.name,
          uuid: s.uuid,
          volume,
          createdAt: s.createdAt,
          ...(s.state === 'creating' ? { state: 'creating' as const } : {}),
        });
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  }

  read(volume: string, name: string): Promise<SnapshotRecord | undefined> {
    return this.#o.meta.read(snapKey(volume, name), snapshotRecordSchema, SNAPSHOT(volume, name), (r) =>
      r.name === name && r.volume === volume
        ? undefined
        : `it is the record of snapshot ${JSON.stringify(r.name)} of volume ${JSON.stringify(r.volume)}`,
    );
  }

  async require(volume: string, name: string): Promise<SnapshotRecord> {
    const s = await this.read(volume, name);
    if (s === undefined)
      throw new VfsError('CONVOY_SNAPSHOT_NOT_FOUND', `snapshot ${name} of volume ${volume} does not exist`, {
        hint: `convoy snapshot list ${volume}`,
      });
    return s;
  }

  /** A snapshot whose copy is complete; one still `creating` cannot be backed up. */
  async finished(volume: string, name: string): Promise<SnapshotRecord> {
    const s = await this.require(volume, name);
    if (s.state !== 'creating') return s;
    throw new VfsError(
      'CONVOY_SNAPSHOT_INCOMPLETE',
      `snapshot ${name} of volume ${volume} is not finished: host ${s.createdBy ?? '?'} began it at ${s.createdAt} and has not finished`,
      {
        hint:
          s.createdBy === this.#o.hostId
            ? 'wait for `convoy snapshot create` to finish'
            : `wait for it on ${s.createdBy ?? 'that host'}; if that host stopped for good, \`convoy snapshot delete ${name}\` and take it again (its own restart also removes it)`,
        details: { volume, snapshot: name },
      },
    );
  }

  /** Every snapshot record on the base path (any volume's); a corrupt one throws CONVOY_RECORD_CORRUPT. */
  async all(): Promise<SnapshotRecord[]> {
    const out: SnapshotRecord[] = [];
    for await (const o of this.#o.meta.store.list('snapshots/')) {
      const m = /^snapshots\/([^/]+)\/(.+)\.json$/.exec(o.key);
      if (m === null) continue;
      const s = await this.read(m[1] as string, m[2] as string);
      if (s !== undefined) out.push(s);
    }
    return out;
  }
}
