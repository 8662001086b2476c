import { ObjectNotFoundError, ObjectStoreError } from '../errors.js';
import { errorCode } from '@convoy/errors';

/** What we read off an SDK or network error, without depending on the SDK's class hierarchy. */
export interface S3ErrorFacts {
  name: string | undefined;
  status: number | undefined;
  code: string | undefined;
}

export function s3ErrorFacts(err: unknown): S3ErrorFacts {
  if (typeof err !== 'object' || err === null) return { name: undefined, status: undefined, code: undefined };
  const e = err as { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const name = typeof e.name === 'string' ? e.name : undefined;
  // radosgw's 411/412 arrive as 'UnknownError' in `message`; the S3 code is in `name` or `Code`.
  const code = typeof e.Code === 'string' ? e.Code : name;
  return { name, status, code };
}

const RETRYABLE_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'InternalError',
  'ServiceUnavailable',
  'TooManyRequestsException',
  'RequestThrottled',
  'ConditionalRequestConflict',
  'OperationAborted',
  'TimeoutError',
]);
const RETRYABLE_NET = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** 5xx, 408, 409 conflicts of concurrent conditional writes, 429, throttling codes, and connection-level failures. */
export function isRetryableS3Error(err: unknown): boolean {
  const f = s3ErrorFacts(err);
  if (f.status !== undefined && (f.status >= 500 || f.status === 408 || f.status === 429)) return true;
  if (f.code !== undefined && RETRYABLE_CODES.has(f.code)) return true;
  const sys = errorCode(err) ?? errorCode((err as { cause?: unknown } | null)?.cause);
  if (sys !== undefined && RETRYABLE_NET.has(sys)) return true;
  // Truncated bodies and sockets closed mid-response surface without a status.
  return f.status === undefined && f.name !== undefined && /^(TimeoutError|NetworkingError|BodyLengthMismatch)$/.test(f.name);
}

/** The key does not exist (a missing bucket is a failure, not an absent key). */
export function isNotFound(err: unknown): boolean {
  const f = s3ErrorFacts(err);
  if (f.code === 'NoSuchBucket') return false;
  return f.code === 'NoSuchKey' || f.code === 'NotFound' || f.status === 404;
}

export function isPreconditionFailed(err: unknown): boolean {
  const f = s3ErrorFacts(err);
  return f.status === 412 || f.code === 'PreconditionFailed';
}

export function isInvalidRange(err: unknown): boolean {
  const f = s3ErrorFacts(err);
  return f.status === 416 || f.code === 'InvalidRange';
}

/** The multipart upload is gone (completed or aborted meanwhile). */
export function isNoSuchUpload(err: unknown): boolean {
  const f = s3ErrorFacts(err);
  return f.code === 'NoSuchUpload' || (f.status === 404 && f.code !== 'NoSuchBucket');
}

/** What to do about a failed S3 request, from its S3 code or HTTP status (undefined: nothing to say). */
export function s3Hint(code: string | undefined, status: number | undefined): string | undefined {
  if (code === 'NoSuchBucket') return 'create the bucket first, or check the bucket name in the URL';
  if (code === 'AccessDenied' || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch' || status === 403) {
    return 'check the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile) and the bucket policy';
  }
  // The SDK found no credentials at all: nothing was sent, so the endpoint is not the problem.
  if (code === 'CredentialsProviderError') {
    return 'no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for the process that opens the store (for convoy commands, the convoy daemon)';
  }
  if (code === 'ECONNREFUSED' || status === undefined)
    return 'check the S3 endpoint (--s3-endpoint or AWS_ENDPOINT_URL) and that it is reachable';
  return undefined;
}

/**
 * What a failed S3 request (after retries) is to the caller: a missing object or bucket as such,
 * anything else CONVOY_OBJECTSTORE_FAILED naming the operation, key, S3 code or HTTP status, with a
 * hint for the code.
 */
export function translateS3Error(err: unknown, op: string, key: string, location: string, bucket: string): ObjectStoreError {
  if (op === 'get' && isNotFound(err)) return new ObjectNotFoundError(location, key);
  if (op === 'open' && isNotFound(err)) {
    return new ObjectStoreError(`S3 bucket ${bucket} does not exist (${location})`, {
      code: 'CONVOY_STORE_NOT_FOUND',
      cause: err,
      hint: 'create the bucket first, or check the bucket name and the endpoint',
    });
  }
  const f = s3ErrorFacts(err);
  const what =
    f.code !== undefined && f.code !== 'UnknownError'
      ? f.code
      : f.status !== undefined
        ? `HTTP ${f.status}`
        : ((err as Error)?.message ?? String(err));
  return new ObjectStoreError(`S3 ${op} of ${key} in ${location} failed: ${what}`, {
    cause: err,
    hint: s3Hint(f.code, f.status),
    details: { location, key, s3Code: f.code, httpStatus: f.status },
  });
}
