// Writes a file index: entries in tree order go out as segments of bounded size (handed to the
// caller to store), then the root object that lists them.
import { ConvoyError } from '@convoy/errors';
import { CHUNKS_PER_LINE, entryToWire, entryWire, type FileEntry, type RootMeta } from './entry.js';
import { unsafePathReason } from './paths.js';
import { encodeRoot, type FileIndexRoot } from './root.js';
import { segmentHeader, segmentId, type SegmentRef } from './segment.js';
import { TreeCheck } from './tree-check.js';

/**
 * Segment boundaries are content-defined: after an entry, once the segment has `minBytes`, it is
 * cut where the low `cutBits` bits of a hash of the entry's path are zero, and before `maxBytes`
 * at the latest (a single longer line makes a segment of its own). So adding or changing a few
 * files changes the segments around them, and the others are the same objects as last time.
 */
export interface SegmentParams {
  minBytes: number;
  maxBytes: number;
  cutBits: number;
}

/** ~128 KiB + 2,048 entries (~400 KiB of NDJSON, ~2,500 entries) per segment; 2 MiB at most. */
export const DEFAULT_SEGMENT_PARAMS: Readonly<SegmentParams> = Object.freeze({
  minBytes: 128 * 1024,
  maxBytes: 2 * 1024 * 1024,
  cutBits: 11,
});

/** A finished segment: store `bytes` under its id, then the writer continues. */
export interface WrittenSegment {
  ref: SegmentRef;
  bytes: Buffer;
}

export interface FileIndexWriterOptions {
  root: RootMeta;
  /** Stores one segment (awaited before the next is built: memory holds one segment). */
  store: (segment: WrittenSegment) => Promise<void>;
  params?: SegmentParams;
  /** How a segment's id is computed from its bytes (default sha256; an encrypted store's keyed hash). */
  segmentId?: (bytes: Uint8Array) => string;
}

function pathHash(path: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function invalid(message: string, path: string): ConvoyError {
  return new ConvoyError('CONVOY_INTERNAL', `cannot add ${JSON.stringify(path)} to the file index: ${message}`, {
    hint: 'this is a bug in the program that builds the index (entries must come in tree order, inside directories added before them)',
    details: { path },
  });
}

export class FileIndexWriter {
  readonly #options: FileIndexWriterOptions;
  readonly #params: SegmentParams;
  readonly #check = new TreeCheck();
  readonly #segments: SegmentRef[] = [];
  #lines: string[] = [];
  #bytes = 0;
  #entries = 0;
  #first: string | undefined;
  #continued = false;
  #owner: string | undefined;
  #total = 0;
  #count = 0;
  #finished = false;

  constructor(options: FileIndexWriterOptions) {
    this.#options = options;
    this.#params = options.params ?? DEFAULT_SEGMENT_PARAMS;
  }

  /** Adds the next entry (tree order; see paths.ts). Refuses what a reader would refuse. */
  async add(e: FileEntry): Promise<void> {
    if (this.#finished) throw invalid('the index is finished', e.path);
    const reason = unsafePathReason(e.path) ?? (e.link === undefined ? undefined : unsafePathReason(e.link));
    if (reason !== undefined) throw invalid(`the path is unsafe: ${reason}`, e.path);
    const chunks = e.chunks ?? (e.type === 'file' ? [] : undefined);
    const head = entryToWire(e, chunks?.slice(0, CHUNKS_PER_LINE));
    const ok = entryWire.safeParse(head);
    if (!ok.success) throw invalid(ok.error.issues[0]?.message ?? 'invalid entry', e.path);
    const wrong = this.#check.check({ ...e, chunks });
    if (wrong !== undefined) throw invalid(wrong, e.path);
    this.#count++;
    this.#total += e.type === 'file' ? e.size : 0;
    await this.#line(`${JSON.stringify(head)}\n`, e.path, true);
    for (let at = CHUNKS_PER_LINE; chunks !== undefined && at < chunks.length; at += CHUNKS_PER_LINE) {
      const more = chunks.slice(at, at + CHUNKS_PER_LINE).map((c) => [c.id, c.size]);
      await this.#line(`${JSON.stringify({ more })}\n`, e.path, false);
    }
    const p = this.#params;
    if (this.#bytes >= p.minBytes && (pathHash(e.path) & ((1 << p.cutBits) - 1)) === 0) await this.#flush();
  }

  /** Flushes the last segment and returns the root object (store it last). */
  async finish(): Promise<{ root: FileIndexRoot; bytes: Buffer }> {
    if (!this.#finished) await this.#flush();
    this.#finished = true;
    const root: FileIndexRoot = { entries: this.#count, bytes: this.#total, root: this.#options.root, segments: [...this.#segments] };
    return { root, bytes: encodeRoot(root) };
  }

  async #line(line: string, path: string, starts: boolean): Promise<void> {
    const n = Buffer.byteLength(line);
    if (this.#lines.length > 0 && this.#bytes + n > this.#params.maxBytes) await this.#flush();
    if (this.#lines.length === 0) {
      this.#first = path;
      this.#continued = !starts;
      this.#bytes = Buffer.byteLength(segmentHeader(this.#continued ? path : undefined));
    }
    this.#lines.push(line);
    this.#bytes += n;
    if (starts) this.#entries++;
    this.#owner = path;
  }

  async #flush(): Promise<void> {
    if (this.#lines.length === 0 || this.#first === undefined || this.#owner === undefined) return;
    const bytes = Buffer.from(segmentHeader(this.#continued ? this.#first : undefined) + this.#lines.join(''));
    const ref: SegmentRef = {
      id: (this.#options.segmentId ?? segmentId)(bytes),
      bytes: bytes.length,
      entries: this.#entries,
      first: this.#first,
      last: this.#owner,
    };
    if (this.#continued) ref.continued = true;
    this.#lines = [];
    this.#bytes = 0;
    this.#entries = 0;
    await this.#options.store({ ref, bytes });
    this.#segments.push(ref);
  }
}
