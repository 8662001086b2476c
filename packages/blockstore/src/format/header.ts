import { ObjectExistsError, ObjectNotFoundError, parseJsonBytes, type ObjectStore } from '@convoy/objectstore';
import { BlockstoreError, formatUnsupported } from '../errors.js';
import { keyedIds } from '../crypto/unlocked.js';
import { ENCRYPTED_BLOCK_ID, parseEncryption, type EncryptionParams } from '../crypto/params.js';
import { blockIdFunction, type BlockIdFunction } from './block-id.js';
import { parseCompression, type Compression } from './codec.js';
import { HEADER_KEY } from './layout.js';

/** The version new stores get. Version 1 stores are read and written with v1's protocol until upgraded. */
export const FORMAT_VERSION = 2;
export const DEFAULT_BLOCK_SIZE = 2 * 1024 * 1024;
export const DAY_MS = 86_400_000;

/** Format v2's reference index and GC parameters (docs/format.md, "Reference index", "GC"). */
export interface GcParams {
  /** Hex digits of a block id that name its reference-index shard (2: 256 shards). */
  shardDigits: number;
  /** A block is deleted only after it was found unreferenced twice, at least this far apart. */
  graceMs: number;
  /** How long finished sweep records are kept (backups running longer re-check every block). */
  recordRetentionMs: number;
  /** Upper bound on how late a listing may show a completed write (0 for S3, radosgw, fs). */
  listLagMs: number;
}

export const DEFAULT_GC: GcParams = { shardDigits: 2, graceMs: DAY_MS, recordRetentionMs: 7 * DAY_MS, listLagMs: 0 };

export interface StoreHeader {
  format: 'convoy-backupstore';
  version: 1 | 2;
  created: string;
  blockSize: number;
  blockId: { algorithm: string };
  compression: Compression;
  /** v2 only. */
  gc?: GcParams;
  /** v2: client-side encryption (null: objects are not encrypted). */
  encryption?: EncryptionParams | null;
  /**
   * v2, directory backups: the content-defined chunker's parameters, which all writers of the
   * store use (@convoy/chunker validates them). Absent in stores made before directory backups:
   * they then use the chunker's defaults.
   */
  chunker?: Record<string, unknown>;
}

/** A validated store: its header and the block-id function the header names. */
export interface OpenedStore {
  store: ObjectStore;
  header: StoreHeader;
  ids: BlockIdFunction;
}

export function parseHeader(bytes: Buffer): StoreHeader {
  let v: unknown;
  try {
    v = parseJsonBytes(bytes);
  } catch {
    throw new BlockstoreError('CONVOY_FORMAT_INVALID', `${HEADER_KEY} is not valid JSON`, { hint: 'the store header is damaged' });
  }
  const h = v as Partial<StoreHeader> | null;
  if (h === null || typeof h !== 'object' || h.format !== 'convoy-backupstore') throw formatUnsupported(HEADER_KEY, h?.format);
  if (h.version !== 1 && h.version !== 2) throw formatUnsupported(HEADER_KEY, h.version);
  if (typeof h.blockSize !== 'number' || h.blockSize < 4096 || h.blockSize > 64 * 1024 * 1024 || h.blockSize % 4096 !== 0) {
    throw new BlockstoreError('CONVOY_FORMAT_INVALID', `${HEADER_KEY} has an invalid blockSize ${String(h.blockSize)}`);
  }
  if (typeof h.blockId?.algorithm !== 'string')
    throw new BlockstoreError('CONVOY_FORMAT_INVALID', `${HEADER_KEY} has no blockId.algorithm`);
  if (typeof h.created !== 'string') throw new BlockstoreError('CONVOY_FORMAT_INVALID', `${HEADER_KEY} has no created time`);
  const base = {
    format: 'convoy-backupstore' as const,
    created: h.created,
    blockSize: h.blockSize,
    blockId: { algorithm: h.blockId.algorithm },
    compression: parseCompression(String(h.compression ?? 'zstd')),
  };
  if (h.version === 1) return { ...base, version: 1 };
  const c: unknown = h.chunker;
  if (c !== undefined && (typeof c !== 'object' || c === null || Array.isArray(c))) {
    throw new BlockstoreError('CONVOY_FORMAT_INVALID', `${HEADER_KEY} has an invalid chunker ${JSON.stringify(c)}`, {
      hint: 'the store header is damaged',
    });
  }
  const encryption = h.encryption === undefined || h.encryption === null ? null : parseEncryption(HEADER_KEY, h.encryption);
  const idAlgorithm = encryption === null ? 'sha256' : ENCRYPTED_BLOCK_ID;
  if (base.blockId.algorithm !== idAlgorithm) throw formatUnsupported(`${HEADER_KEY} blockId.algorithm`, base.blockId.algorithm);
  return {
    ...base,
    version: 2,
    gc: parseGc(h.gc),
    encryption,
    ...(c === undefined ? {} : { chunker: c as Record<string, unknown> }),
  };
}

function parseGc(v: unknown): GcParams {
  const g = (typeof v === 'object' && v !== null ? v : {}) as Partial<Record<keyof GcParams, unknown>>;
  const nat = (x: unknown, name: keyof GcParams, min: number, max: number): number => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min || x > max) {
      throw new BlockstoreError('CONVOY_FORMAT_INVALID', `${HEADER_KEY} has an invalid gc.${name} ${JSON.stringify(x)}`, {
        hint: 'the store header is damaged',
      });
    }
    return x;
  };
  return {
    shardDigits: nat(g.shardDigits, 'shardDigits', 1, 4),
    graceMs: nat(g.graceMs, 'graceMs', 0, 365 * DAY_MS),
    recordRetentionMs: nat(g.recordRetentionMs, 'recordRetentionMs', 0, 3650 * DAY_MS),
    listLagMs: nat(g.listLagMs, 'listLagMs', 0, DAY_MS),
  };
}

export function encodeHeader(h: StoreHeader): Buffer {
  return Buffer.from(`${JSON.stringify(h, null, 2)}\n`);
}

/** Reads and validates the header; throws CONVOY_STORE_EMPTY if the store has none. */
export async function readHeader(store: ObjectStore, signal?: AbortSignal): Promise<OpenedStore> {
  let bytes: Buffer;
  try {
    bytes = await store.get(HEADER_KEY, { signal });
  } catch (err) {
    if (err instanceof ObjectNotFoundError) {
      throw new BlockstoreError('CONVOY_STORE_EMPTY', `${store.location} holds no convoy backups (no ${HEADER_KEY})`, {
        hint: 'check the URL; a store is initialised by its first backup',
      });
    }
    throw err;
  }
  const header = parseHeader(bytes);
  if (header.encryption === undefined || header.encryption === null) return { store, header, ids: blockIdFunction(header.blockId) };
  return { store, header, ids: keyedIds(store, header.encryption) };
}

/** Reads the header, creating it first (only-if-absent: concurrent creators agree) if the store is new. */
export async function openOrInitStore(
  store: ObjectStore,
  init: { compression: Compression; now: Date; gc?: Partial<GcParams>; version?: 1 | 2; chunker?: Record<string, unknown> },
  signal?: AbortSignal,
): Promise<OpenedStore> {
  try {
    return await readHeader(store, signal);
  } catch (err) {
    if (!(err instanceof BlockstoreError) || err.code !== 'CONVOY_STORE_EMPTY') throw err;
  }
  const base = {
    format: 'convoy-backupstore' as const,
    created: init.now.toISOString(),
    blockSize: DEFAULT_BLOCK_SIZE,
    blockId: { algorithm: 'sha256' },
    compression: init.compression,
  };
  const header: StoreHeader =
    init.version === 1
      ? { ...base, version: 1 }
      : { ...base, version: 2, gc: { ...DEFAULT_GC, ...init.gc }, encryption: null, chunker: init.chunker };
  try {
    await store.put(HEADER_KEY, encodeHeader(header), { ifAbsent: true, signal });
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err; // someone else initialised it: use theirs
  }
  return readHeader(store, signal);
}
