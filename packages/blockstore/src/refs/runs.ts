import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '@convoy/objectstore';
import { runKey } from '../format/layout.js';
import { ID_BYTES, encodeRefFile, readRefPages } from '../format/ref-file.js';
import type { RunRef } from './generation.js';

const REC = ID_BYTES + 4;

/** A sorted stream of (id, count) records, one page in memory at a time. */
export class RecordCursor {
  #pages: AsyncIterator<Buffer>;
  #page: Buffer = Buffer.alloc(0);
  #pos = 0;
  readonly #size: number;
  readonly weight: number;
  #done = false;

  /** `size` 32 for id lists (each id counts `weight`), 36 for count runs. */
  constructor(pages: AsyncIterable<Buffer>, size: number, weight = 1) {
    this.#pages = pages[Symbol.asyncIterator]();
    this.#size = size;
    this.weight = weight;
  }

  static ofRun(store: ObjectStore, ref: RunRef, signal?: AbortSignal): RecordCursor {
    return new RecordCursor(readRefPages(store, ref.key, 'counts', { signal }), REC);
  }

  static ofIdList(store: ObjectStore, key: string, weight: number, signal?: AbortSignal): RecordCursor {
    return new RecordCursor(readRefPages(store, key, 'ids', { signal }), ID_BYTES, weight);
  }

  static ofBuffer(body: Buffer, size: number, weight = 1): RecordCursor {
    return new RecordCursor(
      (async function* () {
        yield body;
      })(),
      size,
      weight,
    );
  }

  /** A record is current without loading a page (the fast path of ready()). */
  has(): boolean {
    return this.#pos < this.#page.length;
  }

  /** Loads the next page when needed; false at the end. */
  async ready(): Promise<boolean> {
    while (!this.#done && this.#pos >= this.#page.length) {
      const n = await this.#pages.next();
      if (n.done === true) this.#done = true;
      else {
        this.#page = n.value;
        this.#pos = 0;
      }
    }
    return !this.#done;
  }

  /** The current id (valid after ready() resolved true, until next()). */
  id(): Buffer {
    return this.#page.subarray(this.#pos, this.#pos + ID_BYTES);
  }

  count(): number {
    return this.#size === REC ? this.#page.readInt32LE(this.#pos + ID_BYTES) * this.weight : this.weight;
  }

  next(): void {
    this.#pos += this.#size;
  }
}

/**
 * Merges sorted cursors, summing counts of equal ids, and calls `emit(id, sum)` in id order (ids
 * whose sum is 0 too: the caller decides). Memory: one page per cursor.
 */
export async function mergeCursors(cursors: RecordCursor[], emit: (id: Buffer, sum: number) => void | Promise<void>): Promise<void> {
  let live = [];
  for (const c of cursors) if (await c.ready()) live.push(c);
  while (live.length > 0) {
    let min = (live[0] as RecordCursor).id();
    for (const c of live) if (Buffer.compare(c.id(), min) < 0) min = c.id();
    const id = Buffer.from(min);
    let sum = 0;
    const next = [];
    for (const c of live) {
      if (c.id().equals(id)) {
        sum += c.count();
        c.next();
        if (!c.has() && !(await c.ready())) continue;
      }
      next.push(c);
    }
    live = next;
    await emit(id, sum);
  }
}

/** Builds one count run in memory (sorted input), then writes it under a fresh key. */
export class RunWriter {
  readonly #parts: Buffer[] = [];
  #cur = Buffer.allocUnsafe(REC * 8192);
  #fill = 0;
  records = 0;

  add(id: Buffer, count: number): void {
    if (this.#fill === this.#cur.length) {
      this.#parts.push(this.#cur);
      this.#cur = Buffer.allocUnsafe(this.#cur.length);
      this.#fill = 0;
    }
    id.copy(this.#cur, this.#fill, 0, ID_BYTES);
    this.#cur.writeInt32LE(count, this.#fill + ID_BYTES);
    this.#fill += REC;
    this.records++;
  }

  /** Writes the run (nothing for an empty one) and returns its reference. */
  async write(store: ObjectStore, shard: string, gen: number, signal?: AbortSignal): Promise<RunRef | undefined> {
    if (this.records === 0) return undefined;
    const body = encodeRefFile('counts', Buffer.concat([...this.#parts, this.#cur.subarray(0, this.#fill)]));
    const key = runKey(shard, `${String(gen).padStart(12, '0')}-${randomBytes(4).toString('hex')}`);
    await store.put(key, body, { ifAbsent: true, signal });
    return { key, records: this.records, bytes: body.length };
  }
}
