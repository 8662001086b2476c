// The object store of tools/bench/scale.ts: in memory, counting every request as an S3 server
// would bill it (a list page holds up to 1,000 keys, a delete request up to 1,000 keys), with
// block objects kept as ids only (scale-blocks.ts).
import {
  ObjectExistsError,
  ObjectNotFoundError,
  bodyToBuffer,
  validateKey,
  validatePrefix,
  type DeleteOptions,
  type GetOptions,
  type ListOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutBody,
  type PutOptions,
} from '@convoy/objectstore';
import type { BlockPool } from './scale-blocks.js';

/** Keys per list page and per delete request (S3's ListObjectsV2 and DeleteObjects). */
export const PAGE_KEYS = 1000;

export const OPS = ['get', 'put', 'stat', 'list', 'delete'] as const;
export type Op = (typeof OPS)[number];

/** What one window of operations cost. */
export interface RequestStats {
  requests: Record<Op, number>;
  /** Bytes returned by get (ranges count what they returned). */
  bytesRead: number;
  bytesWritten: number;
  /** Distinct keys touched by get or stat (absent ones included). */
  distinctRead: number;
  keysListed: number;
  keysDeleted: number;
}

interface Stored {
  data: Buffer;
  modified: number;
}

/** A directory of keys, so that a prefix listing costs the size of the listing, not of the store. */
class Dir {
  readonly files = new Set<string>();
  readonly dirs = new Map<string, Dir>();
}

export class CountingStore implements ObjectStore {
  readonly location: string;
  readonly blocks: BlockPool;
  /** Called every 512 requests (an RSS sampler hooks in here). */
  onRequests: (() => void) | undefined;
  readonly #objects = new Map<string, Stored>();
  readonly #root = new Dir();
  readonly #now: () => number;
  #window = emptyWindow();
  #read = new Set<string>();
  #ops = 0;

  constructor(blocks: BlockPool, options: { name?: string; now?: () => number } = {}) {
    this.location = `memory://${options.name ?? 'scale'}`;
    this.blocks = blocks;
    this.#now = options.now ?? Date.now;
  }

  /** Starts a new window of counting; `window()` reports it. */
  resetWindow(): void {
    this.#window = emptyWindow();
    this.#read = new Set();
  }

  window(): RequestStats {
    return { ...this.#window, requests: { ...this.#window.requests }, distinctRead: this.#read.size };
  }

  /** Objects other than pool blocks. */
  get objectCount(): number {
    return this.#objects.size;
  }

  /** Writes an object as it was at `modifiedMs`, without counting a request (populating). */
  seed(key: string, data: Buffer, modifiedMs: number): void {
    validateKey(key);
    this.#set(key, { data, modified: modifiedMs });
  }

  async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    validateKey(key);
    options.signal?.throwIfAborted();
    this.#count('get');
    this.#read.add(key);
    const n = this.blocks.indexOfKey(key);
    let data: Buffer;
    if (n >= 0) {
      if (!this.blocks.has(n)) throw new ObjectNotFoundError(this.location, key);
      data = Buffer.alloc(0);
    } else {
      const o = this.#objects.get(key);
      if (o === undefined) throw new ObjectNotFoundError(this.location, key);
      data = o.data;
    }
    if (options.range !== undefined) {
      const start = Math.min(options.range.offset, data.length);
      data = data.subarray(start, Math.min(data.length, start + options.range.length));
    }
    this.#window.bytesRead += data.length;
    return Buffer.from(data);
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<void> {
    validateKey(key);
    options.signal?.throwIfAborted();
    this.#count('put');
    const data = Buffer.from(await bodyToBuffer(body));
    this.#window.bytesWritten += data.length;
    const n = this.blocks.indexOfKey(key);
    if (options.ifAbsent === true && (n >= 0 ? this.blocks.has(n) : this.#objects.has(key)))
      throw new ObjectExistsError(this.location, key);
    if (n >= 0) this.blocks.add(n, this.#now());
    else this.#set(key, { data, modified: this.#now() });
  }

  async stat(key: string, options: { signal?: AbortSignal } = {}): Promise<ObjectInfo | undefined> {
    validateKey(key);
    options.signal?.throwIfAborted();
    this.#count('stat');
    this.#read.add(key);
    return this.#info(key);
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix);
    this.#count('list'); // the first page, empty or not
    let onPage = 0;
    const page = (): void => {
      this.#window.keysListed++;
      if (++onPage > PAGE_KEYS) {
        this.#count('list');
        onPage = 1;
      }
    };
    for (const key of this.#keys(prefix)) {
      options.signal?.throwIfAborted();
      const o = this.#objects.get(key);
      if (o === undefined) continue; // deleted since this directory was read
      page();
      yield { key, size: o.data.length, lastModified: new Date(o.modified) };
    }
    for (const { key, n } of this.blocks.list(prefix)) {
      options.signal?.throwIfAborted();
      page();
      yield { key, size: 0, lastModified: new Date(this.blocks.lastModified(n)) };
    }
  }

  async delete(keys: readonly string[], options: DeleteOptions = {}): Promise<void> {
    keys.forEach(validateKey);
    options.signal?.throwIfAborted();
    for (let i = 0; i < Math.max(1, keys.length); i += PAGE_KEYS) this.#count('delete');
    this.#window.keysDeleted += keys.length;
    for (const key of keys) {
      const n = this.blocks.indexOfKey(key);
      if (n >= 0) this.blocks.remove(n);
      else if (this.#objects.delete(key)) this.#unlink(key);
    }
  }

  async close(): Promise<void> {}

  #count(op: Op): void {
    this.#window.requests[op]++;
    if ((++this.#ops & 511) === 0) this.onRequests?.();
  }

  #info(key: string): ObjectInfo | undefined {
    const n = this.blocks.indexOfKey(key);
    if (n >= 0) return this.blocks.has(n) ? { key, size: 0, lastModified: new Date(this.blocks.lastModified(n)) } : undefined;
    const o = this.#objects.get(key);
    return o === undefined ? undefined : { key, size: o.data.length, lastModified: new Date(o.modified) };
  }

  #set(key: string, o: Stored): void {
    if (!this.#objects.has(key)) {
      const parts = key.split('/');
      let dir = this.#root;
      for (const part of parts.slice(0, -1)) {
        let next = dir.dirs.get(part);
        if (next === undefined) dir.dirs.set(part, (next = new Dir()));
        dir = next;
      }
      dir.files.add(parts.at(-1) as string);
    }
    this.#objects.set(key, o);
  }

  #unlink(key: string): void {
    const parts = key.split('/');
    const path: Dir[] = [this.#root];
    for (const part of parts.slice(0, -1)) {
      const next = path.at(-1)?.dirs.get(part);
      if (next === undefined) return;
      path.push(next);
    }
    (path.at(-1) as Dir).files.delete(parts.at(-1) as string);
    for (let i = path.length - 1; i > 0; i--) {
      const d = path[i] as Dir;
      if (d.files.size > 0 || d.dirs.size > 0) break;
      (path[i - 1] as Dir).dirs.delete(parts[i - 1] as string);
    }
  }

  /** Keys (of objects other than pool blocks) starting with `prefix`, in key order. */
  *#keys(prefix: string): Generator<string> {
    const cut = prefix.lastIndexOf('/') + 1;
    let dir: Dir | undefined = this.#root;
    for (const part of prefix.slice(0, cut).split('/').slice(0, -1)) {
      dir = dir.dirs.get(part);
      if (dir === undefined) return;
    }
    const start = prefix.slice(cut);
    yield* walk(dir, prefix.slice(0, cut), start);
  }
}

/** Keys under `dir` (whose path is `path`) whose next segment starts with `start`, in key order. */
function* walk(dir: Dir, path: string, start: string): Generator<string> {
  const entries: [string, Dir | undefined][] = [];
  for (const f of dir.files) if (f.startsWith(start)) entries.push([f, undefined]);
  for (const [name, sub] of dir.dirs) if (name.startsWith(start)) entries.push([`${name}/`, sub]);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, sub] of entries) {
    if (sub === undefined) yield path + name;
    else yield* walk(sub, path + name, '');
  }
}

function emptyWindow(): RequestStats {
  return {
    requests: { get: 0, put: 0, stat: 0, list: 0, delete: 0 },
    bytesRead: 0,
    bytesWritten: 0,
    distinctRead: 0,
    keysListed: 0,
    keysDeleted: 0,
  };
}
