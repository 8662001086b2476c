/**
 * The one storage interface backups are written through. Deliberately narrow (as restic's
 * backend): every driver — filesystem, S3, the in-memory and fault-injecting test stores —
 * implements exactly this and passes the same conformance suite.
 *
 * Keys are relative, `/`-separated, and limited to a safe charset (see keys.ts).
 * "Absent" is never a boolean that hides a failure: `stat` answers `undefined` only when the
 * object does not exist, `get` throws ObjectNotFoundError, and any other problem throws an
 * ObjectStoreError that names the store, the key and the underlying cause.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Last modification time as the store reports it, when it does. */
  lastModified?: Date;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface GetOptions {
  /**
   * Read only these bytes. A range that runs past the end returns the bytes that exist;
   * a range that starts at or past the end returns an empty buffer.
   */
  range?: ByteRange;
  signal?: AbortSignal;
}

export interface PutOptions {
  /**
   * Write only if no object has this key, atomically: of any number of concurrent writers
   * exactly one succeeds, the others get ObjectExistsError and the object holds the winner's bytes.
   */
  ifAbsent?: boolean;
  signal?: AbortSignal;
}

export interface ListOptions {
  signal?: AbortSignal;
}

export interface DeleteOptions {
  signal?: AbortSignal;
}

/** Bytes to store: a buffer, or a stream of chunks for large objects (then `size` is required by some drivers). */
export type PutBody = Uint8Array | AsyncIterable<Uint8Array>;

export interface ObjectStore {
  /** Where this store is, safe to print (no credentials). */
  readonly location: string;

  /** The whole object, or the given range of it. Throws ObjectNotFoundError if absent. */
  get(key: string, options?: GetOptions): Promise<Buffer>;

  /**
   * Stores the object atomically: a reader sees the old object, no object, or all of the new one,
   * never a part. Resolves only once the store has confirmed the write.
   */
  put(key: string, body: PutBody, options?: PutOptions): Promise<void>;

  /** Size and time of the object, or `undefined` if it does not exist. Other failures throw. */
  stat(key: string, options?: { signal?: AbortSignal }): Promise<ObjectInfo | undefined>;

  /**
   * Every object whose key starts with `prefix` (a plain string prefix, not only a directory),
   * page by page: the whole listing is never held in memory. Order is unspecified.
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;

  /** Deletes these keys; keys that do not exist are not an error. Throws if any delete failed. */
  delete(keys: readonly string[], options?: DeleteOptions): Promise<void>;

  /** Releases connections and handles. The store is not used afterwards. */
  close(): Promise<void>;
}
