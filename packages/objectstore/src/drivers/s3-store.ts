import { createHash } from 'node:crypto';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
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
import { chunksOf, cleanupStaleUploads, contentMd5Middleware, putMultipart, type MultipartContext } from './s3-multipart.js';
import { isInvalidRange, isNotFound, isPreconditionFailed, isRetryableS3Error, translateS3Error } from './s3-errors.js';

const MiB = 1024 * 1024;

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3StoreOptions {
  /** e.g. http://127.0.0.1:7480 for radosgw or MinIO; default: AWS_ENDPOINT_URL(_S3), else AWS. */
  endpoint?: string;
  /** Path-style addressing (bucket in the path). Default: true when an endpoint is set. */
  forcePathStyle?: boolean;
  /** Default: the SDK's default chain (env, profile, instance role). */
  credentials?: S3Credentials;
  /** Region when the URL names none; else the SDK's chain, else us-east-1. */
  region?: string;
  /** Concurrent HTTP requests of this store (default 16). */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  /** Bodies larger than this go up as multipart uploads (default 64 MiB, minimum 5 MiB). */
  multipartThreshold?: number;
  /** Multipart part size (default 16 MiB, minimum 5 MiB). */
  partSize?: number;
  /** Keys per ListObjectsV2 (and uploads per ListMultipartUploads) page (default 1000, the S3 maximum). */
  listPageSize?: number;
  /**
   * A request fails (and is retried) after this long without a byte sent or received (default
   * 60 s, as boto3's read timeout); a slow but moving transfer is not cut. Long operations are many
   * requests, so this is not a cap on them.
   */
  requestTimeoutMs?: number;
}

/**
 * An ObjectStore in an S3 bucket under a key prefix (AWS, Ceph radosgw, MinIO, …).
 *
 * - Every request goes through one bounded queue and one retry policy (backoff with jitter on 5xx,
 *   throttling and connection failures); the SDK's own retries are off so there is one policy.
 * - A write is reported done only after S3 confirmed it; bodies carry Content-MD5 so the server
 *   rejects a corrupted upload, and batch deletes check the per-key errors S3 returns with a 200.
 * - "Only if absent" is `If-None-Match: *` (412 → ObjectExistsError). If a retried conditional
 *   write meets 412, the object is read back: if it holds our bytes, our first attempt won.
 * - A writer killed mid multipart upload leaves the upload (and its parts, which are billed);
 *   `cleanupStale` aborts the ones under this store's prefix that were initiated long enough ago.
 */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #queue: PQueue;
  readonly #retry: RetryPolicy;
  readonly #multipartThreshold: number;
  readonly #partSize: number;
  readonly #pageSize: number;
  readonly #multipart: MultipartContext;

  constructor(loc: S3Location, options: S3StoreOptions = {}) {
    const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    const config: S3ClientConfig = {
      region: loc.region ?? options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
      // socketTimeout is the inactivity timeout. The SDK's requestTimeout only logs a warning
      // (unless throwOnRequestTimeout) and counts the whole upload: a stalled server hung us forever.
      requestHandler: { socketTimeout: options.requestTimeoutMs ?? 60_000, connectionTimeout: 10_000 },
    };
    if (endpoint !== undefined && endpoint !== '') config.endpoint = endpoint;
    if (options.credentials !== undefined) config.credentials = options.credentials;
    this.#client = new S3Client(config);
    this.#bucket = loc.bucket;
    this.#prefix = loc.prefix === '' ? '' : `${loc.prefix}/`;
    this.#queue = new PQueue({ concurrency: options.concurrency ?? 16 });
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#multipartThreshold = Math.max(5 * MiB, options.multipartThreshold ?? 64 * MiB);
    this.#partSize = Math.max(5 * MiB, options.partSize ?? 16 * MiB);
    this.#pageSize = Math.min(1000, Math.max(1, options.listPageSize ?? 1000));
    const where = loc.region === undefined ? loc.bucket : `${loc.bucket}@${loc.region}`;
    this.location = `s3://${where}${loc.prefix === '' ? '' : `/${loc.prefix}`}`;
    this.#multipart = {
      client: this.#client,
      bucket: this.#bucket,
      prefix: this.#prefix,
      location: this.location,
      partSize: this.#partSize,
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
        const bytes = Buffer.from(await out.Body.transformToByteArray());
        if (out.ContentLength !== undefined && bytes.length !== out.ContentLength) {
          throw Object.assign(new Error(`body of ${key} ended after ${bytes.length} of ${out.ContentLength} bytes`), {
            name: 'BodyLengthMismatch',
          });
        }
        return bytes;
      } catch (err) {
        if (range !== undefined && isInvalidRange(err)) return Buffer.alloc(0); // starts at or past the end
        throw err;
      }
    });
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<void> {
    validateKey(key);
    throwIfAborted(options.signal, `put ${key}`);
    if (body instanceof Uint8Array && body.byteLength <= this.#multipartThreshold) {
      await this.#putSingle(key, Buffer.from(body.buffer, body.byteOffset, body.byteLength), options);
      return;
    }
    // Streams: gather up to the threshold; small streams are single PUTs too.
    const iter = body instanceof Uint8Array ? chunksOf(body, this.#partSize) : body;
    const first: Buffer[] = [];
    let firstSize = 0;
    const it = iter[Symbol.asyncIterator]();
    let next = await it.next();
    while (!next.done && firstSize <= this.#multipartThreshold) {
      const b = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      first.push(b);
      firstSize += b.length;
      next = await it.next();
    }
    if (next.done === true && firstSize <= this.#multipartThreshold) {
      await this.#putSingle(key, Buffer.concat(first), options);
      return;
    }
    if (options.ifAbsent === true) {
      await it.return?.();
      throw new ObjectStoreError(`only-if-absent writes are limited to ${this.#multipartThreshold / MiB} MiB on S3 (${key})`, {
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
            MaxKeys: this.#pageSize,
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

  async delete(keys: readonly string[], options: DeleteOptions = {}): Promise<void> {
    keys.forEach(validateKey);
    const failures: { key: string; code: string }[] = [];
    const batches: string[][] = [];
    for (let i = 0; i < keys.length; i += 1000) batches.push(keys.slice(i, i + 1000));
    await Promise.all(
      batches.map((batch) =>
        this.#call('delete', `${batch.length} keys`, options.signal, async (abortSignal) => {
          const cmd = new DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: batch.map((k) => ({ Key: this.#prefix + k })), Quiet: true },
          });
          // DeleteObjects requires Content-MD5; with checksums 'WHEN_REQUIRED' newer SDKs send a CRC32
          // header instead, which radosgw (and other S3-compatible servers) do not accept: send MD5.
          cmd.middlewareStack.addRelativeTo(contentMd5Middleware, {
            relation: 'before',
            toMiddleware: 'httpSigningMiddleware',
            name: 'convoyContentMd5',
          });
          const out = await this.#client.send(cmd, { abortSignal });
          for (const e of out.Errors ?? []) {
            if (e.Code === 'NoSuchKey') continue;
            failures.push({ key: (e.Key ?? '?').slice(this.#prefix.length), code: e.Code ?? 'UnknownError' });
          }
        }),
      ),
    );
    if (failures.length > 0) {
      throw new ObjectStoreError(
        `cannot delete ${failures.length} of ${keys.length} objects in ${this.location} (first: ${failures[0]?.key}: ${failures[0]?.code})`,
        { details: { location: this.location, failed: failures.slice(0, 20) } },
      );
    }
  }

  /**
   * Aborts the incomplete multipart uploads under this store's prefix initiated before `olderThan`
   * (paginated), reporting the bytes of the parts they held. Committed objects are not multipart
   * uploads and are never touched; uploads of keys that are not ours (invalid keys) neither.
   */
  /** Aborts multipart uploads under the prefix started before `olderThan` (left by killed writers). */
  cleanupStale(options: CleanupStaleOptions): Promise<CleanupStaleResult> {
    return cleanupStaleUploads(this.#multipart, this.#pageSize, options);
  }

  async close(): Promise<void> {
    await this.#queue.onIdle();
    this.#client.destroy();
  }

  async #putSingle(key: string, body: Buffer, options: PutOptions): Promise<void> {
    const md5 = createHash('md5').update(body).digest('base64');
    await this.#call('put', key, options.signal, async (abortSignal, attempt) => {
      try {
        await this.#client.send(
          new PutObjectCommand({
            Bucket: this.#bucket,
            Key: this.#prefix + key,
            Body: body,
            ContentLength: body.length,
            ContentMD5: md5,
            IfNoneMatch: options.ifAbsent === true ? '*' : undefined,
          }),
          { abortSignal },
        );
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

  async #holds(key: string, body: Buffer, signal: AbortSignal): Promise<boolean> {
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }), { abortSignal: signal });
      const bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array());
      return bytes.equals(body);
    } catch {
      return false;
    }
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
