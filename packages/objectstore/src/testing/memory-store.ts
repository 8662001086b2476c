import { throwIfAborted } from '../abort.js';
import { bodyToBuffer } from '../body.js';
import { ObjectExistsError, ObjectNotFoundError } from '../errors.js';
import { validateKey, validatePrefix } from '../keys.js';
import type { DeleteOptions, GetOptions, ListOptions, ObjectInfo, ObjectStore, PutBody, PutOptions } from '../types.js';

/** An ObjectStore in a Map: same semantics as the real drivers (it passes the conformance suite). */
export class MemoryObjectStore implements ObjectStore {
  readonly location: string;
  readonly #objects = new Map<string, { data: Buffer; lastModified: Date }>();
  readonly #now: () => Date;

  /** `now` is the clock every put (overwrites included) stamps lastModified with: inject one in tests. */
  constructor(name = 'memory', now: () => Date = () => new Date()) {
    this.location = `memory://${name}`;
    this.#now = now;
  }

  async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    validateKey(key);
    throwIfAborted(options.signal, `get ${key}`);
    const o = this.#objects.get(key);
    if (o === undefined) throw new ObjectNotFoundError(this.location, key);
    if (options.range === undefined) return Buffer.from(o.data);
    const start = Math.min(options.range.offset, o.data.length);
    return Buffer.from(o.data.subarray(start, Math.min(o.data.length, start + options.range.length)));
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<void> {
    validateKey(key);
    throwIfAborted(options.signal, `put ${key}`);
    const data = Buffer.from(await bodyToBuffer(body)); // copy: the caller may reuse its buffer
    if (options.ifAbsent === true && this.#objects.has(key)) throw new ObjectExistsError(this.location, key);
    this.#objects.set(key, { data, lastModified: new Date(this.#now().getTime()) }); // a copy: the clock may reuse its Date
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    validateKey(key);
    const o = this.#objects.get(key);
    return o === undefined ? undefined : { key, size: o.data.length, lastModified: new Date(o.lastModified.getTime()) };
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix);
    for (const key of [...this.#objects.keys()].filter((k) => k.startsWith(prefix))) {
      throwIfAborted(options.signal, `list ${prefix}`);
      const info = await this.stat(key);
      if (info !== undefined) yield info;
    }
  }

  async delete(keys: readonly string[], options: DeleteOptions = {}): Promise<void> {
    keys.forEach(validateKey);
    throwIfAborted(options.signal, 'delete');
    for (const k of keys) this.#objects.delete(k);
  }

  /** Nothing to clean: a memory store's puts are atomic and leave nothing behind. */
  async cleanupStale(): Promise<{ removed: number; bytes: number }> {
    return { removed: 0, bytes: 0 };
  }

  async close(): Promise<void> {}

  /** Test helper: the raw bytes stored under a key (no copy). */
  peek(key: string): Buffer | undefined {
    return this.#objects.get(key)?.data;
  }

  /** Test helper: replace an object's bytes without any check (simulates corruption). */
  corrupt(key: string, data: Buffer): void {
    const o = this.#objects.get(key);
    if (o === undefined) throw new ObjectNotFoundError(this.location, key);
    o.data = data;
  }

  get size(): number {
    return this.#objects.size;
  }
}
