import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '@convoy/daemon-kit';
import { DevmapperError } from './errors.js';

export interface SnapshotRecord {
  name: string;
  /** Stable id; state files written before it existed get one on load (assignMissingUuids). */
  uuid: string;
  deviceId: number;
  /** Bytes (the origin's size when the snapshot was taken). */
  size: number;
  createdAt: string;
  /** The newest backup of this snapshot per store location (`vfs:///…`, `s3://…`): its id. */
  backups: Record<string, string>;
}

export interface VolumeRecord {
  name: string;
  /** Stable id; state files written before it existed get one on load (assignMissingUuids). */
  uuid: string;
  deviceId: number;
  size: number;
  fs: string;
  createdAt: string;
  /** mkfs has run (or the volume was restored from a backup and holds its filesystem). */
  formatted: boolean;
  /** Where this driver mounted it (checked against /proc/self/mountinfo on start). */
  mountpoint?: string;
  restoredFrom?: string;
  snapshots: Record<string, SnapshotRecord>;
}

/**
 * A multi-step operation in flight, written before its first step and removed with its last.
 * On start, `create` and `snapshot` are rolled back (the caller never got an answer), `delete`
 * is rolled forward (the record is already gone).
 */
export type PendingOp =
  | { op: 'create'; deviceId: number; volume: string; started: string }
  | { op: 'snapshot'; deviceId: number; volume: string; snapshot: string; origin: number; started: string }
  | { op: 'delete'; deviceId: number; volume: string; snapshot?: string; started: string };

export interface DriverState {
  format: 'convoy-devmapper-state';
  version: 1;
  pool: { name: string; blockSize: number };
  /** Next thin device id to try (ids are 24-bit; allocation skips ids in use). */
  nextDeviceId: number;
  volumes: Record<string, VolumeRecord>;
  pending: PendingOp[];
}

export const MAX_DEVICE_ID = 0xffffff;

export function emptyState(pool: string, blockSize: number): DriverState {
  return { format: 'convoy-devmapper-state', version: 1, pool: { name: pool, blockSize }, nextDeviceId: 1, volumes: {}, pending: [] };
}

/** Every thin device id the state knows: volumes, snapshots and pending operations. */
export function knownDeviceIds(state: DriverState): Set<number> {
  const ids = new Set<number>();
  for (const v of Object.values(state.volumes)) {
    ids.add(v.deviceId);
    for (const s of Object.values(v.snapshots)) ids.add(s.deviceId);
  }
  for (const p of state.pending) ids.add(p.deviceId);
  return ids;
}

/** Takes the next free thin device id (wrapping at 2^24) and advances the counter. */
export function allocateDeviceId(state: DriverState): number {
  const used = knownDeviceIds(state);
  let id = state.nextDeviceId;
  for (let tries = 0; tries <= MAX_DEVICE_ID; tries++) {
    if (id < 1 || id > MAX_DEVICE_ID) id = 1;
    if (!used.has(id)) {
      state.nextDeviceId = id + 1;
      return id;
    }
    id++;
  }
  throw new DevmapperError('CONVOY_POOL_FULL', 'no free thin device id is left (2^24 devices)', { hint: 'delete volumes or snapshots' });
}

const invalid = (file: string, why: string): DevmapperError =>
  new DevmapperError('CONVOY_STATE_INVALID', `driver state ${file} is invalid: ${why}`, {
    hint: 'restore the file from a backup or fix it by hand; the pool itself is untouched',
    details: { file },
  });

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_DEVICE_ID;
const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

function checkSnapshot(file: string, v: unknown, where: string): void {
  if (!isObj(v) || !isStr(v.name) || !isId(v.deviceId) || !isSize(v.size) || !isStr(v.createdAt) || !isObj(v.backups))
    throw invalid(file, `${where} is malformed`);
  if (v.uuid !== undefined && !isStr(v.uuid)) throw invalid(file, `${where}.uuid is not a string`);
  for (const [k, id] of Object.entries(v.backups)) if (!isStr(id)) throw invalid(file, `${where}.backups[${k}] is not a string`);
}

function checkVolume(file: string, v: unknown, where: string): void {
  if (
    !isObj(v) ||
    !isStr(v.name) ||
    !isId(v.deviceId) ||
    !isSize(v.size) ||
    !isStr(v.fs) ||
    !isStr(v.createdAt) ||
    typeof v.formatted !== 'boolean' ||
    !isObj(v.snapshots)
  ) {
    throw invalid(file, `${where} is malformed`);
  }
  for (const k of ['uuid', 'mountpoint', 'restoredFrom'] as const)
    if (v[k] !== undefined && !isStr(v[k])) throw invalid(file, `${where}.${k} is not a string`);
  for (const [k, s] of Object.entries(v.snapshots)) checkSnapshot(file, s, `${where}.snapshots[${k}]`);
}

function checkPending(file: string, v: unknown, i: number): void {
  if (!isObj(v) || !isId(v.deviceId) || !isStr(v.volume) || !isStr(v.started)) throw invalid(file, `pending[${i}] is malformed`);
  if (v.op === 'snapshot' && (!isStr(v.snapshot) || !isId(v.origin))) throw invalid(file, `pending[${i}] (snapshot) is malformed`);
  if (v.op !== 'create' && v.op !== 'snapshot' && v.op !== 'delete') throw invalid(file, `pending[${i}] has unknown op ${String(v.op)}`);
}

export function parseState(file: string, text: string): DriverState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw invalid(file, (err as Error).message);
  }
  if (!isObj(v) || v.format !== 'convoy-devmapper-state') throw invalid(file, 'not a convoy-devmapper-state document');
  if (v.version !== 1) {
    throw new DevmapperError('CONVOY_FORMAT_UNSUPPORTED', `driver state ${file} has version ${JSON.stringify(v.version)}`, {
      hint: 'this root was written by a newer convoy; upgrade',
    });
  }
  if (!isObj(v.pool) || !isStr(v.pool.name) || !isSize(v.pool.blockSize)) throw invalid(file, 'pool is malformed');
  if (!isId(v.nextDeviceId) || !isObj(v.volumes) || !Array.isArray(v.pending))
    throw invalid(file, 'nextDeviceId, volumes or pending is malformed');
  for (const [k, vol] of Object.entries(v.volumes)) checkVolume(file, vol, `volumes[${k}]`);
  v.pending.forEach((p, i) => checkPending(file, p, i));
  return v as unknown as DriverState;
}

/**
 * Gives every volume and snapshot without a UUID (state written before UUIDs, or by Rancher
 * Convoy) a new one, so every record the driver reports has one. True when it changed anything
 * (the caller then saves the state).
 */
export function assignMissingUuids(state: DriverState): boolean {
  let changed = false;
  for (const v of Object.values(state.volumes) as Partial<VolumeRecord>[]) {
    if (v.uuid === undefined) {
      v.uuid = randomUUID();
      changed = true;
    }
    for (const s of Object.values(v.snapshots ?? {}) as Partial<SnapshotRecord>[]) {
      if (s.uuid === undefined) {
        s.uuid = randomUUID();
        changed = true;
      }
    }
  }
  return changed;
}

/** The state file under the driver's root, replaced atomically (temp file, fsync, rename, fsync dir). */
export class StateFile {
  readonly path: string;

  constructor(root: string) {
    this.path = path.join(root, 'state.json');
  }

  async load(): Promise<DriverState | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return parseState(this.path, text);
  }

  async save(state: DriverState): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(state, null, 1)}\n`, 0o600);
  }
}
