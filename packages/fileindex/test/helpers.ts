// Test helpers: an in-memory segment store, entries, and hand-made (hostile) segments.
import type { FileEntry, RootMeta } from '../src/entry.js';
import { FileIndexReader } from '../src/reader.js';
import { decodeRoot, encodeRoot, type FileIndexRoot } from '../src/root.js';
import { segmentHeader, segmentId, type SegmentRef } from '../src/segment.js';
import { FileIndexWriter, type SegmentParams } from '../src/writer.js';

export const ROOT: RootMeta = { mode: 0o755, uid: 0, gid: 0, mtimeNs: 1_700_000_000_123_456_789n };
export const TINY: SegmentParams = { minBytes: 300, maxBytes: 1200, cutBits: 2 };

export const hex = (n: number): string => n.toString(16).padStart(64, '0');

export function file(path: string, sizes: number[] = [5], extra: Partial<FileEntry> = {}): FileEntry {
  const chunks = sizes.map((size, i) => ({ id: hex(path.length * 1000 + i + 1), size }));
  return {
    path,
    type: 'file',
    mode: 0o644,
    uid: 1000,
    gid: 1000,
    mtimeNs: 1_700_000_000_000_000_001n,
    size: sizes.reduce((a, b) => a + b, 0),
    chunks,
    ...extra,
  };
}

export const dir = (path: string): FileEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: 1n, size: 0 });

/** A store of segments that counts reads. */
export class MemorySegments {
  readonly objects = new Map<string, Buffer>();
  reads = 0;
  readonly load = async (ref: SegmentRef): Promise<Uint8Array> => {
    this.reads++;
    const b = this.objects.get(ref.id);
    if (b === undefined) throw new Error(`segment ${ref.id} missing`);
    return b;
  };
}

export async function writeIndex(
  entries: FileEntry[],
  params: SegmentParams = TINY,
  segs = new MemorySegments(),
): Promise<{ root: FileIndexRoot; segs: MemorySegments; reader: FileIndexReader }> {
  const w = new FileIndexWriter({ root: ROOT, params, store: async (s) => void segs.objects.set(s.ref.id, s.bytes) });
  for (const e of entries) await w.add(e);
  const { bytes } = await w.finish();
  const root = decodeRoot(bytes, 'test.files');
  return { root, segs, reader: new FileIndexReader(root, segs.load, { name: 'test.files' }) };
}

/** A reader over one hand-written segment (lines are JSON values or raw strings). */
export function craftedIndex(
  lines: unknown[],
  opts: { entries?: number; first?: string; last?: string } = {},
): { reader: FileIndexReader; segs: MemorySegments; ref: SegmentRef } {
  const text = segmentHeader(undefined) + lines.map((l) => `${typeof l === 'string' ? l : JSON.stringify(l)}\n`).join('');
  const bytes = Buffer.from(text);
  const paths = lines.flatMap((l) => (typeof l === 'object' && l !== null && 'path' in l ? [String((l as { path: unknown }).path)] : []));
  const ref: SegmentRef = {
    id: segmentId(bytes),
    bytes: bytes.length,
    entries: opts.entries ?? paths.length,
    first: opts.first ?? paths[0] ?? 'a',
    last: opts.last ?? paths.at(-1) ?? 'a',
  };
  const segs = new MemorySegments();
  segs.objects.set(ref.id, bytes);
  const root: FileIndexRoot = { entries: ref.entries, bytes: 0, root: ROOT, segments: [ref] };
  return { reader: new FileIndexReader(root, segs.load, { name: 'crafted.files' }), segs, ref };
}

export const wire = (e: Partial<Record<string, unknown>>): Record<string, unknown> => ({
  type: 'file',
  mode: 420,
  uid: 0,
  gid: 0,
  mtime: '1',
  size: 0,
  chunks: [],
  ...e,
});

export async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export { encodeRoot };
