// Reads a file index: all of it, one path, or one subtree — loading only the segments that can
// hold what is asked for, and checking everything it loads.
import type { FileEntry } from './entry.js';
import { comparePaths, isWithin, parentPath, assertSafePath } from './paths.js';
import type { FileIndexRoot } from './root.js';
import { corrupt, decodeSegment, type DecodedSegment, type SegmentRef } from './segment.js';
import { TreeCheck } from './tree-check.js';

/** Loads a segment's bytes (from wherever the caller stored it). A missing one must throw. */
export type SegmentLoader = (ref: SegmentRef) => Promise<Uint8Array>;

export interface FileIndexReaderOptions {
  /** How errors name the index (e.g. its key). */
  name?: string;
  /** How segment ids are computed, if not sha256 (the writer's `segmentId`). */
  segmentId?: (bytes: Uint8Array) => string;
}

export class FileIndexReader {
  readonly root: FileIndexRoot;
  readonly #load: SegmentLoader;
  readonly #name: string;
  readonly #segmentId: ((bytes: Uint8Array) => string) | undefined;
  #cache: { index: number; seg: DecodedSegment } | undefined;

  constructor(root: FileIndexRoot, load: SegmentLoader, options: FileIndexReaderOptions = {}) {
    this.root = root;
    this.#load = load;
    this.#name = options.name ?? 'file index';
    this.#segmentId = options.segmentId;
  }

  /** Every entry, in order, with every check (order, parents, hard links, sizes). */
  async *entries(): AsyncGenerator<FileEntry> {
    yield* this.#range('', 0, new TreeCheck('', true));
  }

  /** The entry at `path`, or undefined when the backup has none (reads one or two segments). */
  async lookup(path: string): Promise<FileEntry | undefined> {
    assertSafePath(path, 'the path asked for');
    for await (const e of this.list(path)) return e.path === path ? e : undefined;
    return undefined;
  }

  /**
   * `prefix` itself and everything under it, in order ('' lists everything). The entries are
   * checked as in entries(), except that a hard link's target may lie outside the subtree:
   * resolve it with resolveLink().
   */
  async *list(prefix: string): AsyncGenerator<FileEntry> {
    if (prefix === '') return yield* this.entries();
    assertSafePath(prefix, 'the path asked for');
    const segs = this.root.segments;
    let start = segs.findIndex((s) => comparePaths(s.last, prefix) >= 0);
    if (start < 0) return;
    while (start > 0 && segs[start]!.continued === true && comparePaths(segs[start]!.first, prefix) >= 0) start--;
    yield* this.#range(prefix, start, new TreeCheck(parentPath(prefix), false));
  }

  /** The file a hard-link entry shares its inode with (an error when it is not there). */
  async resolveLink(e: FileEntry): Promise<FileEntry> {
    const target = e.link === undefined ? undefined : await this.lookup(e.link);
    if (target?.type !== 'file' || target.linked !== true) {
      throw corrupt(this.#name, `hard link ${JSON.stringify(e.path)} names ${JSON.stringify(e.link)}, which is no linked file`);
    }
    return target;
  }

  async #segment(index: number): Promise<DecodedSegment> {
    if (this.#cache?.index === index) return this.#cache.seg;
    const ref = this.root.segments[index]!;
    const where = `${this.#name} segment ${index} (${ref.id})`;
    const seg = decodeSegment(await this.#load(ref), ref, where, this.#segmentId);
    this.#cache = { index, seg };
    return seg;
  }

  /** Entries within `prefix`, reading segments from `start` on until past the subtree. */
  async *#range(prefix: string, start: number, check: TreeCheck): AsyncGenerator<FileEntry> {
    let pending: FileEntry | undefined;
    const emit = (e: FileEntry, where: string): FileEntry => {
      const wrong = check.check(e);
      if (wrong !== undefined) throw corrupt(where, wrong);
      return e;
    };
    for (let i = start; i < this.root.segments.length; i++) {
      const seg = await this.#segment(i);
      const where = `${this.#name} segment ${i} (${this.root.segments[i]!.id})`;
      // A segment that starts with more chunks of an entry outside the range: pending is unset,
      // so they are skipped (list() starts early enough to hold every entry of the range whole).
      for (const line of seg.lines) {
        if ('more' in line) {
          if (pending !== undefined) pending.chunks?.push(...line.more);
          continue;
        }
        if (pending !== undefined) yield emit(pending, where);
        pending = undefined;
        const e = line.entry;
        if (isWithin(e.path, prefix))
          pending = e.chunks === undefined ? e : { ...e, chunks: [...e.chunks] }; // the segment is cached
        else if (comparePaths(e.path, prefix) > 0) return;
      }
    }
    if (pending !== undefined) yield emit(pending, this.#name);
  }
}
