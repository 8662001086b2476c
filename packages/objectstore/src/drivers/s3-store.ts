import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import PQueue from 'p-queue';
import { throwIfAborted } from '../abort.js';
import { ObjectExistsError, ObjectNotFoundError, ObjectStoreError } from '../errors.js';
import { isValidKey, validateKey, validatePrefix } from '../keys.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from '../retry.js';
import type {
  CleanupStaleOptions,
  CleanupStaleResult,
  DeleteOptions,
  GetOptions,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutOptions,
} from '../types.js';
import type { S3Location } from '../url.js';
import { s3ClientConfig, s3LocationText, s3Sizes, type S3StoreOptions } from './s3-config.js';
import { deleteObjects } from './s3-delete.js';
import { chunksOf, cleanupStaleUploads, putMultipart, type MultipartContext } from './s3-multipart.js';
import { payloadHash, readBody, signPayload } from './s3-payload.js';
import { isInvalidRange, isNotFound, isPreconditionFailed, isRetryableS3Error, translateS3Error } from './s3-errors.js';

export type { S3Credentials, S3StoreOptions } from './s3-config.js';

/**
 * An ObjectStore in an S3 bucket under a key prefix (AWS, Ceph radosgw, MinIO, …).
 *
 * - Every request goes through one bounded queue and one retry policy (backoff with jitter on 5xx,
 *   throttling and connection failures); the SDK's own retries are off so there is one policy.
 * - A write is reported done only after S3 confirmed it; every body's SHA-256 is signed
 *   (`x-amz-content-sha256`, computed off the main thread) so the server rejects a body changed in
 *   transit, and batch deletes check the per-key errors S3 returns with a 200.
 * - "Only if absent" is `If-None-Match: *` (412 → ObjectExistsError). If a retried conditional
 *   write meets 412, the object is read back: if it holds our bytes, our first attempt won.
 * - A writer killed mid multipart upload leaves the upload (and its parts, which are billed);
 *   `cleanupStale` aborts the ones under this store's prefix that were initiated long enough ago.
 */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  readonly hashesPayloads = true;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #queue: PQueue;
  readonly #retry: RetryPolicy;
  readonly #sizes: ReturnType<typeof s3Sizes>;
  readonly #multipart: MultipartContext;

  constructor(loc: S3Location, options: S3StoreOptions = {}) {
    this.#client = new S3Client(s3ClientConfig(loc, options));
    this.#bucket = loc.bucket;
    this.#prefix = loc.prefix === '' ? '' : `${loc.prefix}/`;
    this.#queue = new PQueue({ concurrency: options.concurrency ?? 16 });
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#sizes = s3Sizes(options);
    this.location = s3LocationText(loc);
    this.#multipart = {
      client: this.#client,
      bucket: this.#bucket,
      prefix: this.#prefix,
      location: this.location,
      partSize: this.#sizes.partSize,
      call: (op, key, signal, fn) => this.#call(op, key, signal, fn),
    };
  }

  /**
   * Checks that the bucket exists and the credentials work, so that a wrong bucket fails here with
   * a clear error instead of later looking like missing objects (HEAD answers a bare 404 for both).
   */
  async open(signal?: AbortSignal): Promise<this> {
    await this.#call('open', '(bucket)', signal, (abortSignal) =>
      this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }), { abortSignal }),
    );
    return this;
  }

  async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    validateKey(key);
    const { range, signal } = options;
    if (range !== undefined && (range.offset < 0 || range.length < 0)) {
      throw new ObjectStoreError(`invalid range for ${key}`, { code: 'CONVOY_OBJECT_RANGE_INVALID' });
    }
    if (range?.length === 0) {
      if ((await this.stat(key, { signal })) === undefined) throw new ObjectNotFoundError(this.location, key);
      return Buffer.alloc(0);
    }
    return this.#call('get', key, signal, async (abortSignal) => {
      try {
        const out = await this.#client.send(
          new GetObjectCommand({
            Bucket: this.#bucket,
            Key: this.#prefix + key,
            Range: range === undefined ? undefined : `bytes=${range.offset}-${range.offset + range.length - 1}`,
          }),
          { abortSignal },
        );
        if (out.Body === undefined) throw new ObjectStoreError(`empty response body for ${key}`);
        return await readBody(out.Body, out.ContentLength, key);
      } catch (err) {
        if (range !== undefined && isInvalidRange(err)) return Buffer.alloc(0); // starts at or past the end
        throw err;
      }
    });
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<void> {
    validateKey(key);
    throwIfAborted(options.signal, `put ${key}`);
    if (body instanceof Uint8Array && body.byteLength <= this.#sizes.multipartThreshold) {
      await this.#putSingle(key, Buffer.from(body.buffer, body.byteOffset, body.byteLength), options);
      return;
    }
    // Streams: gather up to the threshold; small streams are single PUTs too.
    const iter = body instanceof Uint8Array ? chunksOf(body, this.#sizes.partSize) : body;
    const first: Buffer[] = [];
    let firstSize = 0;
    const it = iter[Symbol.asyncIterator]();
    let next = await it.next();
    while (!next.done && firstSize <= this.#sizes.multipartThreshold) {
      const b = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      first.push(b);
      firstSize += b.length;
      next = await it.next();
    }
    if (next.done === true && firstSize <= this.#sizes.multipartThreshold) {
      await this.#putSingle(key, Buffer.concat(first), options);
      return;
    }
    if (options.ifAbsent === true) {
      await it.return?.();
      throw new ObjectStoreError(`only-if-absent writes are limited to ${this.#sizes.multipartThreshold / 2 ** 20} MiB on S3 (${key})`, {
        code: 'CONVOY_OBJECTSTORE_UNSUPPORTED',
        hint: 'write large objects unconditionally, and guard them with a small conditional marker object',
      });
    }
    await putMultipart(this.#multipart, key, first, next.done === true ? undefined : next.value, it, options.signal);
  }

  async stat(key: string, options: { signal?: AbortSignal } = {}): Promise<ObjectInfo | undefined> {
    validateKey(key);
    return this.#call('stat', key, options.signal, async (abortSignal) => {
      try {
        const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }), { abortSignal });
        const info: ObjectInfo = { key, size: out.ContentLength ?? 0 };
        if (out.LastModified !== undefined) info.lastModified = out.LastModified;
        return info;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix);
    let token: string | undefined;
    do {
      const page = await this.#call('list', prefix === '' ? '/' : prefix, options.signal, (abortSignal) =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            MaxKeys: this.#sizes.pageSize,
            ContinuationToken: token,
          }),
          { abortSignal },
        ),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        const key = o.Key.slice(this.#prefix.length);
        if (!isValidKey(key)) continue; // not ours (written by something else into the bucket)
        const info: ObjectInfo = { key, size: o.Size ?? 0 };
        if (o.LastModified !== undefined) info.lastModified = o.LastModified;
        yield info;
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  delete(keys: readonly string[], options: DeleteOptions = {}): Promise<void> {
    return deleteObjects(this.#multipart, keys, options.signal);
  }

  /**
   * Aborts the incomplete multipart uploads under this store's prefix initiated before `olderThan`
   * (left by killed writers; paginated), reporting the bytes of the parts they held. Committed
   * objects are not multipart uploads and are never touched; uploads of keys that are not ours
   * (invalid keys) neither.
   */
  cleanupStale(options: CleanupStaleOptions): Promise<CleanupStaleResult> {
    return cleanupStaleUploads(this.#multipart, this.#sizes.pageSize, options);
  }

  async close(): Promise<void> {
    await this.#queue.onIdle();
    this.#client.destroy();
  }

  async #putSingle(key: string, body: Buffer, options: PutOptions): Promise<void> {
    const sha256 = options.sha256?.toString('hex') ?? (await payloadHash(body));
    await this.#call('put', key, options.signal, async (abortSignal, attempt) => {
      try {
        const command = new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#prefix + key,
          Body: body,
          ContentLength: body.length,
          IfNoneMatch: options.ifAbsent === true ? '*' : undefined,
        });
        signPayload(command.middlewareStack, sha256);
        await this.#client.send(command, { abortSignal });
      } catch (err) {
        if (options.ifAbsent === true && isPreconditionFailed(err)) {
          // A retry can meet our own first attempt, which S3 applied but whose answer was lost.
          if (attempt > 0 && (await this.#holds(key, body, abortSignal))) return;
          throw new ObjectExistsError(this.location, key);
        }
        throw err;
      }
    });
  }

  /**
   * Whether `key` holds `body`. A read that fails (a reset, a 5xx, a truncated body) throws, for
   * the retry policy to decide: taken as "not ours", it failed a write that had succeeded with
   * CONVOY_OBJECT_EXISTS (the faulty-S3 campaign found it).
   */
  async #holds(key: string, body: Buffer, signal: AbortSignal): Promise<boolean> {
    let out: GetObjectCommandOutput;
    try {
      out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }), { abortSignal: signal });
    } catch (err) {
      if (isNotFound(err)) return false; // gone again: not ours to claim
      throw err;
    }
    const bytes = out.Body === undefined ? Buffer.alloc(0) : await readBody(out.Body, out.ContentLength, key);
    return bytes.equals(body);
  }

  /** One S3 request: queued (bounded concurrency), retried by policy, errors translated. */
  async #call<T>(
    op: string,
    key: string,
    signal: AbortSignal | undefined,
    fn: (abortSignal: AbortSignal, attempt: number) => Promise<T>,
  ): Promise<T> {
    throwIfAborted(signal, `${op} ${key}`);
    try {
      return await withRetry(
        this.#retry,
        isRetryableS3Error,
        (attempt) => this.#queue.add(() => fn(signal ?? new AbortController().signal, attempt)) as Promise<T>,
        signal,
      );
    } catch (err) {
      if (err instanceof ObjectStoreError) throw err;
      throwIfAborted(signal, `${op} ${key}`);
      throw translateS3Error(err, op, key, this.location, this.#bucket);
    }
  }
}
