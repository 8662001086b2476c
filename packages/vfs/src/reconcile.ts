// What a crash during a create, a snapshot or a delete leaves under data/ and snapshots/,
// recognised and removed at start.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Adoption } from './adopt.js';
import { isCorruptRecord, type SnapshotRecord, type VolumeRecord } from './records.js';

export interface ReconcileDeps {
  /** <base>/data: one directory per volume, named by its UUID. */
  dataDir: string;
  /** <base>/snapshots: one directory per snapshot, named by its UUID. */
  snapshotsDir: string;
  hostId: string;
  /** Every volume record on the base path (any host's); a corrupt one throws CONVOY_RECORD_CORRUPT. */
  records(): Promise<VolumeRecord[]>;
  /** UUIDs whose data directories stay although no volume record names them (displaced records); a corrupt one throws CONVOY_RECORD_CORRUPT. */
  keep(): Promise<string[]>;
  /** Every snapshot record on the base path; a corrupt one throws CONVOY_RECORD_CORRUPT. */
  snapshotRecords(): Promise<SnapshotRecord[]>;
  /** Removes an unfinished volume: its record and its data directory. */
  abandon(rec: VolumeRecord): Promise<void>;
  /** Removes a snapshot: its record, then its directory. */
  dropSnapshot(snap: SnapshotRecord): Promise<void>;
  /** Removes a directory (through trash/). */
  discard(dir: string): Promise<void>;
}

export interface Reconciled {
  /** Volumes and snapshots (`volume/snapshot`) this host began creating and had not finished when it stopped: removed. */
  unfinished: string[];
  /** Data and snapshot directories no record names (a create or delete killed halfway): removed. */
  orphans: string[];
  /** Snapshot records (`volume/snapshot`) of a volume that is gone (its delete was killed halfway): removed. */
  stale?: string[];
  /** Why orphans were not looked for this time (a record could not be read). */
  skipped?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const uuidDirs = async (dir: string): Promise<string[]> => (await fs.readdir(dir)).filter((e) => UUID.test(e));

/**
 * Run at start, while this host has no operation in flight:
 * - a volume or snapshot record in state `creating` written by this host is a create, restore or
 *   snapshot this host did not finish (it was killed): it is removed, so it never looks finished
 *   with missing data; another host's stays (it may still be working on it) and cannot be used
 *   until it is ready;
 * - a snapshot record whose volume is gone (or is a newer volume of the same name) is left by a
 *   killed delete: it is removed;
 * - a data or snapshot directory no record names is left by a killed create, snapshot or delete:
 *   it is removed.
 * Directories are listed before records, and snapshot records before volume records: every create
 * writes its record before its directory, and a snapshot record is written only while its volume's
 * record is there, so what is seen here as unnamed (or stale) belongs to no create in progress on
 * any host. If any record is corrupt, nothing is removed (the corrupt one may own any of them).
 */
export async function reconcileData(d: ReconcileDeps): Promise<Reconciled> {
  const dirs = await uuidDirs(d.dataDir);
  const snapDirs = await uuidDirs(d.snapshotsDir);
  let records: VolumeRecord[];
  let snaps: SnapshotRecord[];
  let kept: string[];
  try {
    snaps = await d.snapshotRecords();
    records = await d.records();
    kept = await d.keep();
  } catch (err) {
    if (!isCorruptRecord(err)) throw err;
    return { unfinished: [], orphans: [], skipped: err.message };
  }
  const unfinished: string[] = [];
  const stale: string[] = [];
  const named = new Set<string>(kept);
  const live = new Map<string, string>();
  for (const rec of records) {
    named.add(rec.uuid);
    if (rec.state === 'creating' && rec.createdBy === d.hostId) {
      await d.abandon(rec);
      unfinished.push(rec.name);
    } else live.set(rec.name, rec.uuid);
  }
  for (const s of snaps) {
    named.add(s.uuid);
    if (live.get(s.volume) !== s.volumeUuid) {
      await d.dropSnapshot(s);
      stale.push(`${s.volume}/${s.name}`);
    } else if (s.state === 'creating' && s.createdBy === d.hostId) {
      await d.dropSnapshot(s);
      unfinished.push(`${s.volume}/${s.name}`);
    }
  }
  const orphans = dirs.filter((uuid) => !named.has(uuid));
  for (const uuid of orphans) await d.discard(path.join(d.dataDir, uuid));
  const snapOrphans = snapDirs.filter((uuid) => !named.has(uuid));
  for (const uuid of snapOrphans) await d.discard(path.join(d.snapshotsDir, uuid));
  return { unfinished, orphans: [...orphans, ...snapOrphans.map((u) => `snapshots/${u}`)], ...(stale.length === 0 ? {} : { stale }) };
}

/** Whether a start cleaned anything up (`convoy info` shows what only then). */
/** What `convoy info` shows of a vfs driver: its path and scope, free space, volumes, and what start() cleaned. */
export async function driverInfo(d: {
  path: string;
  host: string;
  scope: string;
  defaultVolumeSize: number | undefined;
  volumes: number;
  unreadable: number;
  reconciled: Reconciled | undefined;
  adoption?: Adoption | undefined;
}): Promise<Record<string, unknown>> {
  const st = await fs.statfs(d.path);
  return {
    driver: 'vfs',
    path: d.path,
    host: d.host,
    scope: d.scope,
    ...(d.defaultVolumeSize === undefined ? {} : { defaultVolumeSize: d.defaultVolumeSize }),
    bytesTotal: st.blocks * st.bsize,
    bytesFree: st.bavail * st.bsize,
    volumes: d.volumes,
    ...(d.unreadable === 0 ? {} : { unreadableRecords: d.unreadable }),
    ...(cleanedAnything(d.reconciled) ? { cleanedAtStart: d.reconciled } : {}),
    ...(d.adoption !== undefined && d.adoption.adopted.length + d.adoption.skipped.length > 0 ? { rancherConvoyAtStart: d.adoption } : {}),
  };
}

export function cleanedAnything(r: Reconciled | undefined): r is Reconciled {
  return r !== undefined && (r.unfinished.length > 0 || r.orphans.length > 0 || r.stale !== undefined || r.skipped !== undefined);
}
