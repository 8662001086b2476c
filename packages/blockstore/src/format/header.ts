import { ObjectExistsError, ObjectNotFoundError, type ObjectStore } from '@convoy/objectstore';
import { BlockstoreError, formatUnsupported } from '../errors.js';
import { blockIdFunction, type BlockIdFunction } from './block-id.js';
import { parseCompression, type Compression } from './codec.js';
import { HEADER_KEY } from './layout.js';

export const FORMAT_VERSION = 1;
export const DEFAULT_BLOCK_SIZE = 2 * 1024 * 1024;

export interface StoreHeader {
  format: 'convoy-backupstore';
  version: 1;
  created: string;
  blockSize: number;
  blockId: { algorithm: string };
  compression: Compression;
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
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new BlockstoreError('CONVOY_FORMAT_INVALID', `${HEADER_KEY} is not valid JSON`, { hint: 'the store header is damaged' });
  }
  const h = v as Partial<StoreHeader> | null;
  if (h === null || typeof h !== 'object' || h.format !== 'convoy-backupstore') throw formatUnsupported(HEADER_KEY, h?.format);
  if (h.version !== FORMAT_VERSION) throw formatUnsupported(HEADER_KEY, h.version);
  if (typeof h.blockSize !== 'number' || h.blockSize < 4096 || h.blockSize > 64 * 1024 * 1024 || h.blockSize % 4096 !== 0) {
    throw new BlockstoreError('CONVOY_FORMAT_INVALID', `${HEADER_KEY} has an invalid blockSize ${String(h.blockSize)}`);
  }
  if (typeof h.blockId?.algorithm !== 'string') throw new BlockstoreError('CONVOY_FORMAT_INVALID', `${HEADER_KEY} has no blockId.algorithm`);
  if (typeof h.created !== 'string') throw new BlockstoreError('CONVOY_FORMAT_INVALID', `${HEADER_KEY} has no created time`);
  return {
    format: 'convoy-backupstore',
    version: 1,
    created: h.created,
    blockSize: h.blockSize,
    blockId: { algorithm: h.blockId.algorithm },
    compression: parseCompression(String(h.compression ?? 'zstd')),
  };
}

/** Reads and validates the header; throws CONVOY_STORE_EMPTY if the store has none. */
export async function readHeader(store: ObjectStore, signal?: AbortSignal): Promise<OpenedStore> {
  let bytes: Buffer;
  try {
    bytes = await store.get(HEADER_KEY, signal === undefined ? {} : { signal });
  } catch (err) {
    if (err instanceof ObjectNotFoundError) {
      throw new BlockstoreError('CONVOY_STORE_EMPTY', `${store.location} holds no convoy backups (no ${HEADER_KEY})`, {
        hint: 'check the URL; a store is initialised by its first backup',
      });
    }
    throw err;
  }
  const header = parseHeader(bytes);
  return { store, header, ids: blockIdFunction(header.blockId) };
}

/** Reads the header, creating it first (only-if-absent: concurrent creators agree) if the store is new. */
export async function openOrInitStore(store: ObjectStore, init: { compression: Compression; now: Date }, signal?: AbortSignal): Promise<OpenedStore> {
  try {
    return await readHeader(store, signal);
  } catch (err) {
    if (!(err instanceof BlockstoreError) || err.code !== 'CONVOY_STORE_EMPTY') throw err;
  }
  const header: StoreHeader = {
    format: 'convoy-backupstore',
    version: 1,
    created: init.now.toISOString(),
    blockSize: DEFAULT_BLOCK_SIZE,
    blockId: { algorithm: 'sha256' },
    compression: init.compression,
  };
  try {
    await store.put(HEADER_KEY, Buffer.from(`${JSON.stringify(header, null, 2)}\n`), { ifAbsent: true, ...(signal === undefined ? {} : { signal }) });
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err; // someone else initialised it: use theirs
  }
  return readHeader(store, signal);
}
