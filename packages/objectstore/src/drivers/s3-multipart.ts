// S3 multipart uploads: the part of S3ObjectStore that speaks S3's multipart dialect.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { throwIfAborted } from '../abort.js';
import { ObjectStoreError } from '../errors.js';
import { isValidKey } from '../keys.js';
import type { CleanupStaleOptions, CleanupStaleResult } from '../types.js';
import { isNoSuchUpload } from './s3-errors.js';
import { payloadHash, signPayload } from './s3-payload.js';

/** What a multipart upload needs of its store: the client, where it writes, and its request runner. */
export interface MultipartContext {
  client: S3Client;
  bucket: string;
  /** The store's key prefix ('' or ending in '/'). */
  prefix: string;
  location: string;
  partSize: number;
  /** One S3 request: queued, retried and its errors translated (S3ObjectStore's). */
  call<T>(
    op: string,
    key: string,
    signal: AbortSignal | undefined,
    fn: (abortSignal: AbortSignal, attempt: number) => Promise<T>,
  ): Promise<T>;
}

/**
 * A multipart upload of a body given as its first buffered chunks, a pending chunk and the rest:
 * parts of `partSize`, each with its signed SHA-256, at most 4 in flight (bounded memory), completed in order;
 * any failure aborts the upload so no parts are left behind.
 */
export async function putMultipart(
  s3: MultipartContext,
  key: string,
  first: Buffer[],
  pending: Uint8Array | undefined,
  rest: AsyncIterator<Uint8Array>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const Key = s3.prefix + key;
  const created = await s3.call('put', key, signal, (abortSignal) =>
    s3.client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key }), { abortSignal }),
  );
  const UploadId = created.UploadId;
  if (UploadId === undefined) throw new ObjectStoreError(`S3 returned no upload id for ${key} in ${s3.location}`);
  const parts: { PartNumber: number; ETag: string }[] = [];
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  const uploadPart = (PartNumber: number, data: Buffer): Promise<void> => {
    const p = payloadHash(data)
      .then((sha256) =>
        s3.call('put', `${key} part ${PartNumber}`, signal, (abortSignal) => {
          const command = new UploadPartCommand({ Bucket: s3.bucket, Key, UploadId, PartNumber, Body: data, ContentLength: data.length });
          signPayload(command.middlewareStack, sha256);
          return s3.client.send(command, { abortSignal });
        }),
      )
      .then(
        (out) => {
          if (out.ETag === undefined) throw new ObjectStoreError(`S3 returned no ETag for part ${PartNumber} of ${key}`);
          parts.push({ PartNumber, ETag: out.ETag });
        },
        (err: unknown) => {
          failure ??= err;
        },
      );
    const tracked = p.finally(() => inflight.delete(tracked));
    inflight.add(tracked);
    return tracked;
  };
  try {
    let buffered: Buffer[] = first;
    let size = first.reduce((n, b) => n + b.length, 0);
    let partNumber = 1;
    const flush = async (final: boolean): Promise<void> => {
      while (size >= s3.partSize || (final && size > 0)) {
        const all = Buffer.concat(buffered);
        const take = final && all.length <= s3.partSize ? all.length : s3.partSize;
        const part = all.subarray(0, take);
        buffered = take < all.length ? [all.subarray(take)] : [];
        size = all.length - take;
        while (inflight.size >= 4) await Promise.race(inflight); // bounded memory: 4 parts in flight
        if (failure !== undefined) throw failure;
        void uploadPart(partNumber++, Buffer.from(part));
      }
    };
    let chunk = pending;
    while (chunk !== undefined) {
      throwIfAborted(signal, `put ${key}`);
      buffered.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      size += chunk.byteLength;
      await flush(false);
      const n = await rest.next();
      chunk = n.done === true ? undefined : n.value;
    }
    await flush(true);
    await Promise.all(inflight);
    if (failure !== undefined) throw failure;
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    await s3.call('put', key, signal, (abortSignal) =>
      s3.client.send(new CompleteMultipartUploadCommand({ Bucket: s3.bucket, Key, UploadId, MultipartUpload: { Parts: parts } }), {
        abortSignal,
      }),
    );
  } catch (err) {
    await Promise.allSettled(inflight);
    await s3.client.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key, UploadId })).catch(() => undefined);
    throw err;
  }
}

/** A buffer as chunks of `size` bytes (views, not copies). */
export async function* chunksOf(buf: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < buf.byteLength; i += size) yield buf.subarray(i, Math.min(buf.byteLength, i + size));
}

/** Aborts the multipart uploads under the store's prefix started before `olderThan`: what they held, in bytes. */
export async function cleanupStaleUploads(
  s3: MultipartContext,
  pageSize: number,
  options: CleanupStaleOptions,
): Promise<CleanupStaleResult> {
  const { olderThan, signal } = options;
  const result: CleanupStaleResult = { removed: 0, bytes: 0 };
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await s3.call('cleanup', 'incomplete uploads', signal, (abortSignal) =>
      s3.client.send(
        new ListMultipartUploadsCommand({
          Bucket: s3.bucket,
          Prefix: s3.prefix,
          MaxUploads: pageSize,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
        { abortSignal },
      ),
    );
    const stale = (page.Uploads ?? []).flatMap((u) =>
      u.Key !== undefined &&
      u.UploadId !== undefined &&
      u.Initiated !== undefined && // an upload of unknown age is never taken for stale
      u.Initiated.getTime() < olderThan.getTime() &&
      u.Key.startsWith(s3.prefix) &&
      isValidKey(u.Key.slice(s3.prefix.length))
        ? [{ key: u.Key.slice(s3.prefix.length), uploadId: u.UploadId }]
        : [],
    );
    const aborted = await Promise.all(stale.map((u) => abortUpload(s3, u.key, u.uploadId, signal)));
    for (const bytes of aborted) {
      if (bytes === undefined) continue; // completed or aborted by someone else meanwhile
      result.removed++;
      result.bytes += bytes;
    }
    const next = { key: page.NextKeyMarker, uploadId: page.NextUploadIdMarker };
    if (page.IsTruncated !== true || next.key === undefined || (next.key === keyMarker && next.uploadId === uploadIdMarker)) break;
    keyMarker = next.key;
    uploadIdMarker = next.uploadId;
  }
  return result;
}

/** Sums the parts of one upload, then aborts it: its bytes, or undefined if it is already gone. */
async function abortUpload(
  s3: MultipartContext,
  key: string,
  UploadId: string,
  signal: AbortSignal | undefined,
): Promise<number | undefined> {
  const Key = s3.prefix + key;
  let bytes = 0;
  let partMarker: string | undefined;
  for (;;) {
    const page = await s3.call('cleanup', `${key} upload ${UploadId}`, signal, async (abortSignal) => {
      try {
        return await s3.client.send(new ListPartsCommand({ Bucket: s3.bucket, Key, UploadId, PartNumberMarker: partMarker }), {
          abortSignal,
        });
      } catch (err) {
        if (isNoSuchUpload(err)) return undefined;
        throw err;
      }
    });
    if (page === undefined) return undefined;
    for (const part of page.Parts ?? []) bytes += part.Size ?? 0;
    if (page.IsTruncated !== true || page.NextPartNumberMarker === undefined || page.NextPartNumberMarker === partMarker) break;
    partMarker = page.NextPartNumberMarker;
  }
  return s3.call('cleanup', `${key} upload ${UploadId}`, signal, async (abortSignal) => {
    try {
      await s3.client.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key, UploadId }), { abortSignal });
      return bytes;
    } catch (err) {
      if (isNoSuchUpload(err)) return undefined;
      throw err;
    }
  });
}
