// What a crash during a create or a delete leaves under data/, recognised and removed at start.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isCorruptRecord, type VolumeRecord } from './records.js';

export interface ReconcileDeps {
  /** <base>/data: one directory per volume, named by its UUID. */
  dataDir: string;
  hostId: string;
  /** Every volume record on the base path (any host's); a corrupt one throws CONVOY_RECORD_CORRUPT. */
  records(): Promise<VolumeRecord[]>;
  /** Removes an unfinished volume: its record and its data directory. */
  abandon(rec: VolumeRecord): Promise<void>;
  /** Removes a directory (through trash/). */
  discard(dir: string): Promise<void>;
}

export interface Reconciled {
  /** Volumes this host began creating and had not finished when it stopped: removed. */
  unfinished: string[];
  /** Data directories no volume record names (a create or delete killed halfway): removed. */
  orphans: string[];
  /** Why orphans were not looked for this time (a record could not be read). */
  skipped?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Run at start, while this host has no operation in flight:
 * - a record in state `creating` written by this host is a create or restore this host did not
 *   finish (it was killed): the volume is removed, so it never looks finished with missing data;
 *   another host's stays (it may still be working on it) and cannot be mounted until it is ready;
 * - a data directory no record names is left by a killed create or delete: it is removed.
 * Directories are listed before records: a create writes its record before its directory, so a
 * directory seen here whose record is not seen after belongs to no create in progress on any host.
 * If any record is corrupt, no directory is removed (the corrupt one may own any of them).
 */
export async function reconcileData(d: ReconcileDeps): Promise<Reconciled> {
  const dirs = (await fs.readdir(d.dataDir)).filter((e) => UUID.test(e));
  let records: VolumeRecord[];
  try {
    records = await d.records();
  } catch (err) {
    if (!isCorruptRecord(err)) throw err;
    return { unfinished: [], orphans: [], skipped: err.message };
  }
  const unfinished: string[] = [];
  const named = new Set<string>();
  for (const rec of records) {
    named.add(rec.uuid);
    if (rec.state === 'creating' && rec.createdBy === d.hostId) {
      await d.abandon(rec);
      unfinished.push(rec.name);
    }
  }
  const orphans = dirs.filter((uuid) => !named.has(uuid));
  for (const uuid of orphans) await d.discard(path.join(d.dataDir, uuid));
  return { unfinished, orphans };
}
