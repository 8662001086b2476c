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
  /**
   * The object need not be visible or durable before the next `flush()`: a store that can batch
   * durability (fs: one pass of fsyncs for many objects instead of two per object) does; others
   * write it now. Not with ifAbsent. Until flushed, a get, stat or list may not see it, and a
   * crash may lose it (never leaving a partial object under its key).
   */
  deferred?: boolean;
  /**
   * The SHA-256 of exactly `body`, when the caller has it: a store that hashes its bodies
   * (`hashesPayloads`: S3 signs it) uses it instead of hashing again; others ignore it. A wrong one
   * makes the write fail (S3 refuses the body), never stores wrong bytes. A store wrapper that
   * changes the body (encryption) must drop it.
   */
  sha256?: Buffer;
  signal?: AbortSignal;
}

export interface ListOptions {
  signal?: AbortSignal;
}

export interface DeleteOptions {
  signal?: AbortSignal;
}

export interface CleanupStaleOptions {
  /**
   * Only what was started before this time is removed. Choose it well before the start of any
   * write that may still be running: removing a live writer's leftovers makes that write fail
   * (it never corrupts an object), so a grace period of hours is usual.
   */
  olderThan: Date;
  signal?: AbortSignal;
}

export interface CleanupStaleResult {
  /** Temporary files or incomplete uploads removed. */
  removed: number;
  /** The bytes they held. */
  bytes: number;
}

/** Bytes to store: a buffer, or a stream of chunks for large objects (then `size` is required by some drivers). */
export type PutBody = Uint8Array | AsyncIterable<Uint8Array>;

export interface ObjectStore {
  /** Where this store is, safe to print (no credentials). */
  readonly location: string;

  /** A put hashes its body with SHA-256 (S3: the signed payload hash) unless given PutOptions.sha256. */
  readonly hashesPayloads?: boolean;

  /**
   * The whole object, or the given range of it. Throws ObjectNotFoundError if absent. The buffer is
   * the caller's own: no other reader shares it, so the caller may write over it.
   */
  get(key: string, options?: GetOptions): Promise<Buffer>;

  /**
   * Stores the object atomically: a reader sees the old object, no object, or all of the new one,
   * never a part. Resolves only once the store has confirmed the write. Once it settles, the store
   * holds no reference to a buffer body: the caller may reuse it (a store that keeps bytes copies them).
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

  /**
   * Removes what killed writers left behind (temp files, incomplete multipart uploads) older than
   * the given time; never touches committed objects. Optional: a store whose writers cannot leave
   * anything behind (the in-memory one) does not have it.
   */
  cleanupStale?(options: CleanupStaleOptions): Promise<CleanupStaleResult>;

  /**
   * Makes every deferred put so far visible and durable (see PutOptions.deferred). A store without
   * deferred puts has none. After a failure, none of them may be relied on.
   */
  flush?(options?: { signal?: AbortSignal }): Promise<void>;

  /** Releases connections and handles (deferred puts not flushed are dropped). The store is not used afterwards. */
  close(): Promise<void>;
}
