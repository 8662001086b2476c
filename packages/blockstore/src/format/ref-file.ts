import { createHash } from 'node:crypto';
import { ObjectNotFoundError, type ObjectStore } from '@convoy/objectstore';
import { BlockstoreError } from '../errors.js';

/**
 * Sorted id files of format v2 (docs/format.md, "Reference files"): a backup's add marker and a
 * sweep's doomed set are *id lists* (32-byte ids); reference-index runs are *count runs* (id +
 * int32 count). Records are sorted by id, strictly increasing, and the header carries the body's
 * sha256, so a torn or flipped file is an error naming its key, never a shorter list.
 *
 *   0  4  magic "CVRF"     4 1 version 1     5 1 kind (1 id list, 2 count run)   6 2 reserved 0
 *   8  4  record count N (uint32 LE)        12 32 sha256 of the body            44 … N records
 */
export type RefFileKind = 'ids' | 'counts';

const MAGIC = Buffer.from('CVRF');
export const REF_HEADER = 44;
export const ID_BYTES = 32;
export const recordSize = (kind: RefFileKind): number => (kind === 'ids' ? ID_BYTES : ID_BYTES + 4);
const kindByte = (kind: RefFileKind): number => (kind === 'ids' ? 1 : 2);

export const refCorrupt = (key: string, reason: string): BlockstoreError =>
  new BlockstoreError('CONVOY_INDEX_CORRUPT', `reference file ${key} is corrupt: ${reason}`, {
    hint: 'run `convoy-backup maintenance --full` to rebuild what can be rebuilt; the blocks it protects are kept meanwhile',
    details: { key },
  });

/** Encodes sorted records (the caller guarantees order). */
export function encodeRefFile(kind: RefFileKind, body: Buffer): Buffer {
  const size = recordSize(kind);
  if (body.length % size !== 0) throw new Error(`ref file body of ${body.length} bytes is not whole records of ${size}`);
  const h = Buffer.alloc(REF_HEADER);
  MAGIC.copy(h, 0);
  h[4] = 1;
  h[5] = kindByte(kind);
  h.writeUInt32LE(body.length / size, 8);
  createHash('sha256').update(body).digest().copy(h, 12);
  return Buffer.concat([h, body]);
}

/**
 * Reads a ref file page by page (range GETs of ~`pageBytes`), checking order as it goes and the
 * checksum at the end: memory stays at one page whatever the file's size. Missing is an error
 * (`missingOk` returns nothing instead, for callers that know absence is legitimate).
 */
export async function* readRefPages(
  store: ObjectStore,
  key: string,
  kind: RefFileKind,
  options: { pageBytes?: number; signal?: AbortSignal; missingOk?: boolean } = {},
): AsyncGenerator<Buffer> {
  const size = recordSize(kind);
  const sig = { signal: options.signal };
  let head: Buffer;
  try {
    head = await store.get(key, { range: { offset: 0, length: REF_HEADER }, ...sig });
  } catch (err) {
    if (err instanceof ObjectNotFoundError) {
      if (options.missingOk === true) return;
      throw refCorrupt(key, 'the object is missing');
    }
    throw err;
  }
  if (head.length < REF_HEADER || !head.subarray(0, 4).equals(MAGIC)) throw refCorrupt(key, 'bad header');
  if (head[4] !== 1) throw refCorrupt(key, `version ${head[4]} is not supported`);
  if (head[5] !== kindByte(kind)) throw refCorrupt(key, `kind ${head[5]} where ${kindByte(kind)} was expected`);
  const n = head.readUInt32LE(8);
  const want = head.subarray(12, 44);
  const hash = createHash('sha256');
  const perPage = Math.max(1, Math.floor((options.pageBytes ?? 1 << 20) / size));
  let prev: Buffer | undefined;
  for (let done = 0; done < n;) {
    const take = Math.min(perPage, n - done);
    const page = await store.get(key, { range: { offset: REF_HEADER + done * size, length: take * size }, ...sig });
    if (page.length !== take * size) throw refCorrupt(key, `ends after ${done + Math.floor(page.length / size)} of ${n} records`);
    hash.update(page);
    for (let i = 0; i < take; i++) {
      const id = page.subarray(i * size, i * size + ID_BYTES);
      if (prev !== undefined && Buffer.compare(prev, id) >= 0) throw refCorrupt(key, 'ids are not strictly increasing');
      prev = id;
    }
    prev = Buffer.from(prev as Buffer);
    done += take;
    yield page;
  }
  const tail = await store.get(key, { range: { offset: REF_HEADER + n * size, length: 1 }, ...sig });
  if (tail.length !== 0) throw refCorrupt(key, 'has bytes past its last record');
  if (!hash.digest().equals(want)) throw refCorrupt(key, 'checksum mismatch');
}

/** A whole id list in memory (for one backup's ids: bounded by the volume, not the store). */
export async function readIdList(store: ObjectStore, key: string, signal?: AbortSignal): Promise<Buffer> {
  const pages: Buffer[] = [];
  for await (const p of readRefPages(store, key, 'ids', { signal })) pages.push(p);
  return Buffer.concat(pages);
}

/** Sorts 32-byte ids and drops duplicates: the body of an id list. */
export function sortUniqueIds(ids: readonly Buffer[]): Buffer {
  const sorted = [...ids].sort(Buffer.compare);
  const out: Buffer[] = [];
  for (const id of sorted) if (out.length === 0 || !(out.at(-1) as Buffer).equals(id)) out.push(id);
  return Buffer.concat(out);
}

/** Index of `id` in a sorted id-list body, or -1 (binary search). */
export function findId(body: Buffer, id: Buffer): number {
  let lo = 0;
  let hi = body.length / ID_BYTES - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = Buffer.compare(body.subarray(mid * ID_BYTES, mid * ID_BYTES + ID_BYTES), id);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
