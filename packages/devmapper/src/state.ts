import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '@convoy/daemon-kit';
import { z } from 'zod';
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

const deviceId = z.number().int().min(0).max(MAX_DEVICE_ID);
const size = z.number().int().positive();

const snapshotSchema = z.object({
  name: z.string(),
  uuid: z.string().optional(), // older files: assigned on load (assignMissingUuids)
  deviceId,
  size,
  createdAt: z.string(),
  backups: z.record(z.string(), z.string()),
});

const volumeSchema = z.object({
  name: z.string(),
  uuid: z.string().optional(),
  deviceId,
  size,
  fs: z.string(),
  createdAt: z.string(),
  formatted: z.boolean(),
  mountpoint: z.string().optional(),
  restoredFrom: z.string().optional(),
  snapshots: z.record(z.string(), snapshotSchema),
});

const pendingBase = { deviceId, volume: z.string(), started: z.string() };
const pendingSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('create'), ...pendingBase }),
  z.object({ op: z.literal('snapshot'), ...pendingBase, snapshot: z.string(), origin: deviceId }),
  z.object({ op: z.literal('delete'), ...pendingBase, snapshot: z.string().optional() }),
]);

/** The driver's state file (`<root>/state.json`): the one schema every read goes through. */
const stateSchema = z.object({
  format: z.literal('convoy-devmapper-state'),
  version: z.literal(1),
  pool: z.object({ name: z.string(), blockSize: size }),
  nextDeviceId: deviceId,
  volumes: z.record(z.string(), volumeSchema),
  pending: z.array(pendingSchema),
});

/** `volumes[v].snapshots[s].size`: where in the file a problem is. */
const where = (p: readonly PropertyKey[]): string =>
  p.reduce<string>(
    (out, k, i) =>
      typeof k === 'number' || ['volumes', 'snapshots', 'backups', 'pending'].includes(String(p[i - 1]))
        ? `${out}[${String(k)}]`
        : `${out}${out === '' ? '' : '.'}${String(k)}`,
    '',
  );

export function parseState(file: string, text: string): DriverState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw invalid(file, (err as Error).message);
  }
  const head = v as { format?: unknown; version?: unknown } | null;
  if (typeof head !== 'object' || head === null || head.format !== 'convoy-devmapper-state') {
    throw invalid(file, 'not a convoy-devmapper-state document');
  }
  if (head.version !== 1) {
    throw new DevmapperError('CONVOY_FORMAT_UNSUPPORTED', `driver state ${file} has version ${JSON.stringify(head.version)}`, {
      hint: 'this root was written by a newer convoy; upgrade',
    });
  }
  const parsed = stateSchema.safeParse(v);
  if (parsed.success) return parsed.data as DriverState; // uuids are assigned by assignMissingUuids
  const issue = parsed.error.issues[0];
  const at = where(issue?.path ?? []);
  if (issue?.code === 'invalid_union' && issue.path[0] === 'pending' && issue.path.at(-1) === 'op') {
    const op = (v as { pending: { op?: unknown }[] }).pending[Number(issue.path[1])]?.op;
    throw invalid(file, `pending[${String(issue.path[1])}] has unknown op ${String(op)}`);
  }
  throw invalid(file, `${at} is malformed (${issue?.message ?? 'invalid'})`);
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
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); // damage inside a string must not read as valid
    } catch {
      throw invalid(this.path, 'not UTF-8 text');
    }
    return parseState(this.path, text);
  }

  async save(state: DriverState): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(state, null, 1)}\n`, 0o600);
  }
}
