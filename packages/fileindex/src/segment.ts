// A segment: one object of a file index. NDJSON: a header line, then entry lines in tree order,
// each possibly followed by continuation lines with more of its chunks. Its id is the sha256 of
// its bytes, so identical segments of two backups are one object.
import { ConvoyError } from '@convoy/errors';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { entryFromWire, entryWire, moreWire, type ChunkRef, type FileEntry } from './entry.js';
import { assertSafePath, comparePaths } from './paths.js';

export const SEGMENT_FORMAT = 'convoy-file-index-segment';

/** What the root says about a segment. */
export interface SegmentRef {
  /** Hash (hex) of the segment's bytes: sha256, or the store's keyed hash (see the writer's `segmentId`). */
  id: string;
  bytes: number;
  /** Entries that start in it. */
  entries: number;
  /** Path of the entry its first line belongs to, and of the entry its last line belongs to. */
  first: string;
  last: string;
  /** It starts with continuation lines of `first`, which began in the segment before. */
  continued?: true;
}

export type SegmentLine = { entry: FileEntry } | { more: ChunkRef[] };

export interface DecodedSegment {
  continued: boolean;
  lines: SegmentLine[];
}

const header = z.object({ format: z.literal(SEGMENT_FORMAT), version: z.literal(1), continues: z.string().optional() });

export function segmentHeader(continues: string | undefined): string {
  return `${JSON.stringify(continues === undefined ? { format: SEGMENT_FORMAT, version: 1 } : { format: SEGMENT_FORMAT, version: 1, continues })}\n`;
}

export function segmentId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function corrupt(where: string, what: string, details: Record<string, unknown> = {}): ConvoyError {
  return new ConvoyError('CONVOY_FILEINDEX_CORRUPT', `${where} is corrupt: ${what}`, {
    hint: 'the backup cannot be listed or restored from this index; run verify, and restore from another backup',
    details,
  });
}

function parseLine(text: string, where: string, n: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw corrupt(where, `line ${n} is not JSON`, { line: n });
  }
}

/**
 * Decodes and checks one segment against its ref: checksum, length, header, every line's schema
 * and path, strict order, and the ref's first, last and entry count. Anything else is
 * CONVOY_FILEINDEX_CORRUPT (or CONVOY_FILEINDEX_UNSAFE_PATH for a hostile path) naming `where`.
 */
export function decodeSegment(
  bytes: Uint8Array,
  ref: SegmentRef,
  where: string,
  idOf: (bytes: Uint8Array) => string = segmentId,
): DecodedSegment {
  if (bytes.length !== ref.bytes) throw corrupt(where, `it has ${bytes.length} bytes, the index says ${ref.bytes}`);
  if (idOf(bytes) !== ref.id) throw corrupt(where, 'its hash does not match its id');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw corrupt(where, 'it is not UTF-8');
  }
  if (!text.endsWith('\n')) throw corrupt(where, 'its last line is not terminated');
  const rows = text.slice(0, -1).split('\n');
  const h = header.safeParse(parseLine(rows[0] ?? '', where, 1));
  if (!h.success) throw corrupt(where, 'its header is not a file index segment version 1');
  const continued = h.data.continues !== undefined;
  if (continued !== (ref.continued === true) || (continued && h.data.continues !== ref.first)) {
    throw corrupt(where, 'its header disagrees with the index about the entry it continues');
  }
  const lines: SegmentLine[] = [];
  let prev: FileEntry | undefined;
  let owner = h.data.continues;
  let canContinue = continued;
  for (let n = 2; n <= rows.length; n++) {
    const raw = parseLine(rows[n - 1]!, where, n);
    if (typeof raw === 'object' && raw !== null && 'more' in raw) {
      const m = moreWire.safeParse(raw);
      if (!m.success) throw corrupt(where, `line ${n}: ${m.error.issues[0]?.message ?? 'invalid'}`, { line: n });
      if (!canContinue) throw corrupt(where, `line ${n} continues no file entry`, { line: n });
      lines.push({ more: m.data.more.map(([id, size]) => ({ id, size })) });
      continue;
    }
    const w = entryWire.safeParse(raw);
    if (!w.success) {
      const issue = w.error.issues[0];
      throw corrupt(where, `line ${n}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`.replace(':  ', ': '), { line: n });
    }
    assertSafePath(w.data.path, `${where}, line ${n}`);
    const e = entryFromWire(w.data);
    if (e.link !== undefined) {
      assertSafePath(e.link, `${where}, line ${n} (hard link)`);
      if (comparePaths(e.link, e.path) >= 0) throw corrupt(where, `line ${n}: hard link ${e.path} names a later entry`, { line: n });
    }
    const before = prev?.path ?? owner;
    if (before !== undefined && comparePaths(before, e.path) >= 0) {
      throw corrupt(where, `line ${n}: ${JSON.stringify(e.path)} is out of order (after ${JSON.stringify(before)})`, { line: n });
    }
    lines.push({ entry: e });
    prev = e;
    owner = e.path;
    canContinue = e.type === 'file' && (e.chunks?.length ?? 0) > 0;
  }
  if (continued && !(lines[0] !== undefined && 'more' in lines[0]))
    throw corrupt(where, 'it says it continues an entry but starts with none of its chunks');
  const entries = lines.filter((l) => 'entry' in l).length;
  const firstPath = continued ? h.data.continues : (lines[0] as { entry?: FileEntry } | undefined)?.entry?.path;
  if (entries !== ref.entries || firstPath !== ref.first || owner !== ref.last) {
    throw corrupt(
      where,
      `it holds ${entries} entries from ${JSON.stringify(firstPath)} to ${JSON.stringify(owner)}, the index says ${ref.entries} from ${JSON.stringify(ref.first)} to ${JSON.stringify(ref.last)}`,
    );
  }
  return { continued, lines };
}
