import { createHash } from 'node:crypto';
import { isConvoyError } from '@convoy/errors';
import { ObjectNotFoundError, parseJsonBytes, readJsonRecord, type ObjectStore } from '@convoy/objectstore';
import { z } from 'zod';
import { BlockstoreError, formatUnsupported, manifestInvalid } from '../errors.js';
import { BlockMap } from './block-map.js';
import { parseCompression, type Compression } from './codec.js';
import { blockMapKey, filesKey, manifestKey, volumeKey } from './layout.js';
import { validateBackupId } from './names.js';
import { validateVolumeName } from '@convoy/rules';

export interface BackupStats {
  blocksTotal: number;
  blocksNonZero: number;
  blocksRead: number;
  blocksUploaded: number;
  bytesRead: number;
  bytesUploaded: number;
  durationMs: number;
}

export interface Manifest {
  format: 'convoy-backup-manifest';
  version: 1;
  id: string;
  volume: string;
  created: string;
  snapshot: string | null;
  size: number;
  blockSize: number;
  compression: Compression;
  blockId: string;
  parent: string | null;
  labels: Record<string, string>;
  blockMap: { key: string; entries: number; sha256: string; bytes: number };
  stats: BackupStats;
  /**
   * What the backup holds: absent (or 'blocks') for a block image; 'directory' for a directory
   * tree (issue 12), whose block map is then its reference list (one entry per distinct chunk or
   * index segment, index = ordinal) and whose file index root is `files`.
   */
  kind?: 'blocks' | 'directory';
  /** Directory backups: the file index root (`<id>.files`), checked like the block map. */
  files?: { key: string; sha256: string; bytes: number; entries: number; started?: string };
  /** Directory backups with packs: the pack map's block id (a block of the reference list). */
  packs?: { id: string; entries: number; bytes: number };
}

/** True when the manifest describes a directory backup (its block map is a reference list). */
export function isDirectoryManifest(m: Manifest): boolean {
  return m.kind === 'directory';
}

export interface VolumeRecord {
  name: string;
  size: number;
  created: string;
  updated: string;
  lastBackup: { id: string; created: string; snapshot: string | null } | null;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const nat = z.number().int().nonnegative();

/** A manifest as stored (format and version are checked first, for their own errors). */
const manifestSchema = z.looseObject({
  id: z.string(),
  volume: z.string(),
  created: z.string().refine((t) => !Number.isNaN(Date.parse(t))),
  snapshot: z.string().nullable(),
  size: nat,
  blockSize: nat.positive(),
  compression: z.string(),
  blockId: z.string(),
  parent: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  blockMap: z.looseObject({ key: z.string(), entries: nat, sha256: z.string(), bytes: nat }),
  stats: z.record(z.string(), z.unknown()),
  kind: z.enum(['blocks', 'directory']).optional(),
  files: z.looseObject({ key: z.string(), sha256: z.string(), bytes: nat, entries: nat, started: z.string().optional() }).optional(),
  packs: z.looseObject({ id: z.string().regex(/^[0-9a-f]{64}$/), entries: nat, bytes: nat }).optional(),
});

/** Parses and validates a manifest read from `key`; anything off is CONVOY_MANIFEST_INVALID naming the key. */
export function parseManifest(key: string, bytes: Buffer): Manifest {
  let v: unknown;
  try {
    v = parseJsonBytes(bytes);
  } catch {
    throw manifestInvalid(key, 'not valid JSON');
  }
  if (!isObj(v)) throw manifestInvalid(key, 'not a JSON object');
  if (v.format !== 'convoy-backup-manifest') throw manifestInvalid(key, `format is ${JSON.stringify(v.format)}`);
  if (v.version !== 1) throw formatUnsupported(key, v.version);
  // A kind this build does not know is refused: reading it as a block image would be wrong.
  if (v.kind !== undefined && v.kind !== 'blocks' && v.kind !== 'directory') throw formatUnsupported(`${key} kind`, v.kind);
  const parsed = manifestSchema.safeParse(v);
  if (!parsed.success) throw manifestInvalid(key, `field "${String(parsed.error.issues[0]?.path[0] ?? '?')}" is missing or invalid`);
  try {
    validateBackupId(parsed.data.id);
    validateVolumeName(parsed.data.volume);
  } catch (err) {
    throw manifestInvalid(key, (err as Error).message);
  }
  const m = v as unknown as Manifest;
  if (m.blockMap.key !== blockMapKey(m.volume, m.id)) throw manifestInvalid(key, 'blockMap.key does not belong to this backup');
  if (m.kind === 'directory') {
    if (m.files === undefined) throw manifestInvalid(key, 'field "files" is missing or invalid');
    if (m.files.key !== filesKey(m.volume, m.id)) throw manifestInvalid(key, 'files.key does not belong to this backup');
  } else if (m.blockMap.entries * m.blockSize < m.blockMap.bytes || m.blockMap.bytes > m.size)
    throw manifestInvalid(key, 'blockMap sizes are inconsistent');
  return { ...m, compression: parseCompression(m.compression) };
}

export function encodeManifest(m: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 1)}\n`);
}

export async function readManifest(store: ObjectStore, volume: string, id: string, signal?: AbortSignal): Promise<Manifest> {
  const key = manifestKey(volume, id);
  let bytes: Buffer;
  try {
    bytes = await store.get(key, { signal });
  } catch (err) {
    if (err instanceof ObjectNotFoundError) {
      throw new BlockstoreError('CONVOY_BACKUP_NOT_FOUND', `backup ${id} of volume ${volume} not found in ${store.location}`, {
        hint: 'convoy-backup list DEST --volume NAME shows the backups',
        details: { volume, id },
      });
    }
    throw err;
  }
  const m = parseManifest(key, bytes);
  if (m.id !== id || m.volume !== volume) throw manifestInvalid(key, `names backup ${m.volume}/${m.id}`);
  return m;
}

/** Loads and checks a manifest's block map (sha256 and entry count must match the manifest). */
export async function readBlockMap(store: ObjectStore, m: Manifest, signal?: AbortSignal): Promise<BlockMap> {
  let bytes: Buffer;
  try {
    bytes = await store.get(m.blockMap.key, { signal });
  } catch (err) {
    if (err instanceof ObjectNotFoundError) throw manifestInvalid(m.blockMap.key, 'block map object is missing');
    throw err;
  }
  if (createHash('sha256').update(bytes).digest('hex') !== m.blockMap.sha256)
    throw manifestInvalid(m.blockMap.key, 'block map checksum mismatch');
  const map = await BlockMap.decode(m.blockMap.key, bytes);
  if (map.count !== m.blockMap.entries)
    throw manifestInvalid(m.blockMap.key, `holds ${map.count} entries, manifest says ${m.blockMap.entries}`);
  const last = map.count > 0 ? map.at(map.count - 1) : undefined;
  if (m.kind === 'directory') {
    if (last !== undefined && last.index !== map.count - 1) throw manifestInvalid(m.blockMap.key, 'reference list indices are not 0..n-1');
  } else if (last !== undefined && last.index * m.blockSize + last.length > m.size)
    throw manifestInvalid(m.blockMap.key, 'entries run past the volume size');
  return map;
}

const volumeRecordSchema = z.object({
  name: z.string(),
  size: z.number().int().nonnegative(),
  created: z.string(),
  updated: z.string(),
  lastBackup: z.object({ id: z.string(), created: z.string(), snapshot: z.string().nullable() }).nullable(),
});

/**
 * A volume's summary record (`volumes/<v>/volume.json`): undefined when there is none; a damaged
 * one is CONVOY_MANIFEST_INVALID naming it, never "absent".
 */
export async function readVolumeRecord(store: ObjectStore, volume: string, signal?: AbortSignal): Promise<VolumeRecord | undefined> {
  const key = volumeKey(volume);
  return readJsonRecord(store, key, volumeRecordSchema, (reason) => manifestInvalid(key, reason), {
    signal,
    check: (r) => (r.name === volume ? undefined : `names volume ${JSON.stringify(r.name)}`),
  });
}

/**
 * Writes the volume's summary record for its newest backup `m`. The record is derived from the
 * manifests, so writing it also repairs a damaged one (only its `created` is lost then).
 */
export async function writeVolumeRecord(store: ObjectStore, volume: string, m: Manifest, now: Date, signal?: AbortSignal): Promise<void> {
  const prev = await readVolumeRecord(store, volume, signal).catch((err: unknown) => {
    if (isConvoyError(err, 'CONVOY_MANIFEST_INVALID')) return undefined;
    throw err;
  });
  const rec: VolumeRecord = {
    name: volume,
    size: m.size,
    created: prev?.created ?? m.created,
    updated: now.toISOString(),
    lastBackup: { id: m.id, created: m.created, snapshot: m.snapshot },
  };
  await store.put(volumeKey(volume), Buffer.from(`${JSON.stringify(rec, null, 1)}\n`), { signal });
}
