// What directory backups read from and write to a store, in the store's own terms: manifests,
// the file index root and its segments (blocks), chunks (blocks).
import { createHash } from 'node:crypto';
import { BlockstoreError, fetchBlock, isDirectoryManifest, readManifest, type Manifest, type OpenedStore } from '@convoy/blockstore';
import { DEFAULT_CHUNKER_PARAMS, parseChunkerParams, type ChunkerParams } from '@convoy/chunker';
import { ConvoyError } from '@convoy/errors';
import { decodeRoot, FileIndexReader } from '@convoy/fileindex';
import { ObjectNotFoundError } from '@convoy/objectstore';
import { PackMap } from './pack-map.js';

/** The store's chunker (header `chunker`), or the defaults for a store made before it was recorded. */
export function chunkerOf(opened: OpenedStore): ChunkerParams {
  const c = opened.header.chunker;
  return c === undefined ? DEFAULT_CHUNKER_PARAMS : parseChunkerParams(c, 'convoy.json chunker');
}

/** Directory backups need format v2 (add markers, the reference index). */
export function requireV2(opened: OpenedStore): void {
  if (opened.header.version !== 2) {
    throw new ConvoyError('CONVOY_FORMAT_UNSUPPORTED', `${opened.store.location} is a format v1 store: directory backups need format v2`, {
      hint: 'run `convoy-backup upgrade STORE` first',
    });
  }
}

/** Reads a backup's manifest and checks that it is a directory backup. */
export async function readDirectoryManifest(
  opened: OpenedStore,
  volume: string,
  id: string,
  signal?: AbortSignal,
): Promise<Manifest & { files: NonNullable<Manifest['files']> }> {
  const m = await readManifest(opened.store, volume, id, signal);
  if (!isDirectoryManifest(m) || m.files === undefined) {
    throw new BlockstoreError('CONVOY_BACKUP_INCOMPATIBLE', `backup ${id} of ${volume} is a block image, not a directory backup`, {
      hint: 'restore it into a file or block device: convoy-backup restore URL FILE',
    });
  }
  return m as Manifest & { files: NonNullable<Manifest['files']> };
}

/**
 * The backup's file index: the root is checked against the manifest (sha256, size), every
 * segment is a verified block and is checked again against the root by the reader.
 */
export async function openIndex(
  opened: OpenedStore,
  m: Manifest & { files: NonNullable<Manifest['files']> },
  signal?: AbortSignal,
): Promise<FileIndexReader> {
  const key = m.files.key;
  let bytes: Buffer;
  try {
    bytes = await opened.store.get(key, { signal });
  } catch (err) {
    if (err instanceof ObjectNotFoundError)
      throw new ConvoyError('CONVOY_FILEINDEX_CORRUPT', `the file index root ${key} is missing`, { details: { key } });
    throw err;
  }
  if (bytes.length !== m.files.bytes || createHash('sha256').update(bytes).digest('hex') !== m.files.sha256) {
    throw new ConvoyError('CONVOY_FILEINDEX_CORRUPT', `the file index root ${key} does not match its manifest (size or sha256)`, {
      details: { key },
    });
  }
  const root = decodeRoot(bytes, key);
  if (root.entries !== m.files.entries)
    throw new ConvoyError(
      'CONVOY_FILEINDEX_CORRUPT',
      `the file index root ${key} holds ${root.entries} entries, its manifest says ${m.files.entries}`,
      { details: { key } },
    );
  return new FileIndexReader(root, async (ref) => (await fetchBlock(opened, ref.id, signal)).data, {
    name: key,
    segmentId: (bytes) => opened.ids.digest(bytes).toString('hex'),
  });
}

/** The ids of all-zero chunks by length (restores leave them as holes, without fetching them). */
export class ZeroChunks {
  readonly #ids = new Map<number, string>();
  readonly #opened: OpenedStore;

  constructor(opened: OpenedStore) {
    this.#opened = opened;
  }

  isZero(id: string, length: number): boolean {
    let z = this.#ids.get(length);
    if (z === undefined) {
      if (this.#ids.size > 64) this.#ids.clear();
      z = this.#opened.ids.digest(Buffer.alloc(length)).toString('hex');
      this.#ids.set(length, z);
    }
    return z === id;
  }
}

/** The backup's pack map (verified block), or undefined when it has no packs. */
export async function readPackMap(opened: OpenedStore, m: Manifest, signal?: AbortSignal): Promise<PackMap | undefined> {
  if (m.packs === undefined) return undefined;
  const map = PackMap.decode((await fetchBlock(opened, m.packs.id, signal)).data, `${m.packs.id} of backup ${m.volume}/${m.id}`);
  if (map.size !== m.packs.entries)
    throw new ConvoyError(
      'CONVOY_FILEINDEX_CORRUPT',
      `pack map ${m.packs.id} holds ${map.size} entries, its manifest says ${m.packs.entries}`,
    );
  return map;
}
