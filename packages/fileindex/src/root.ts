// The root object of a file index: the backed-up directory's own metadata and the list of
// segments, in order. Small: one line per segment (a segment holds thousands of entries).
import { z } from 'zod';
import { rootMetaFromWire, rootMetaToWire, rootMetaWire, type RootMeta } from './entry.js';
import { assertSafePath, comparePaths } from './paths.js';
import { corrupt, type SegmentRef } from './segment.js';

export const ROOT_FORMAT = 'convoy-file-index';

export interface FileIndexRoot {
  /** Entries in all segments. */
  entries: number;
  /** Sum of the file entries' sizes. */
  bytes: number;
  root: RootMeta;
  segments: SegmentRef[];
}

const segmentRefWire = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31),
  entries: z.number().int().min(0),
  first: z.string(),
  last: z.string(),
  continued: z.literal(true).optional(),
});

const rootWire = z.object({
  format: z.literal(ROOT_FORMAT),
  version: z.literal(1),
  entries: z.number().int().min(0),
  bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  root: rootMetaWire,
  segments: z.array(segmentRefWire),
});

export function encodeRoot(r: FileIndexRoot): Buffer {
  const segments = r.segments.map((s) => ({
    id: s.id,
    bytes: s.bytes,
    entries: s.entries,
    first: s.first,
    last: s.last,
    ...(s.continued ? { continued: true } : {}),
  }));
  return Buffer.from(
    `${JSON.stringify({ format: ROOT_FORMAT, version: 1, entries: r.entries, bytes: r.bytes, root: rootMetaToWire(r.root), segments })}\n`,
  );
}

/**
 * Parses and checks a root object read from `where` (its key): schema, safe paths, segments in
 * order and not overlapping, entry counts adding up. Anything wrong is CONVOY_FILEINDEX_CORRUPT.
 */
export function decodeRoot(bytes: Uint8Array, where: string): FileIndexRoot {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw corrupt(where, 'it is not UTF-8 JSON');
  }
  const r = rootWire.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw corrupt(where, `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const segments: SegmentRef[] = r.data.segments.map((s) => ({ ...s }));
  let total = 0;
  segments.forEach((s, i) => {
    assertSafePath(s.first, `${where}, segment ${i}`);
    assertSafePath(s.last, `${where}, segment ${i}`);
    if (comparePaths(s.first, s.last) > 0) throw corrupt(where, `segment ${i} ends before it starts`);
    if (s.entries === 0 && !(s.continued && s.first === s.last)) throw corrupt(where, `segment ${i} holds nothing`);
    const prev = segments[i - 1];
    if (prev === undefined) {
      if (s.continued) throw corrupt(where, 'the first segment continues an entry');
    } else {
      const c = comparePaths(prev.last, s.first);
      if (s.continued ? c !== 0 : c >= 0) throw corrupt(where, `segment ${i} is out of order`);
    }
    total += s.entries;
  });
  if (total !== r.data.entries) throw corrupt(where, `its segments hold ${total} entries, it says ${r.data.entries}`);
  return { entries: r.data.entries, bytes: r.data.bytes, root: rootMetaFromWire(r.data.root), segments };
}
