// S3ObjectStore's options, and what they make: the SDK client's configuration, the sizes of
// multipart uploads and listing pages, and the store's s3:// location text.
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { RetryPolicy } from '../retry.js';
import type { S3Location } from '../url.js';

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
 * The SDK client's configuration: the SDK's own retries off (one policy: the store's), checksums
 * only where required (radosgw rejects the newer defaults), path style with an endpoint, and an
 * inactivity timeout rather than a cap on a whole transfer.
 */
export function s3ClientConfig(loc: S3Location, options: S3StoreOptions): S3ClientConfig {
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
  return config;
}

/** Multipart threshold and part size (at least S3's 5 MiB), and keys per listing page (at most S3's 1000). */
export function s3Sizes(options: S3StoreOptions): { multipartThreshold: number; partSize: number; pageSize: number } {
  return {
    multipartThreshold: Math.max(5 * MiB, options.multipartThreshold ?? 64 * MiB),
    partSize: Math.max(5 * MiB, options.partSize ?? 16 * MiB),
    pageSize: Math.min(1000, Math.max(1, options.listPageSize ?? 1000)),
  };
}

/** `s3://bucket[@region][/prefix]`: how the store names itself in errors and backup URLs. */
export function s3LocationText(loc: S3Location): string {
  const where = loc.region === undefined ? loc.bucket : `${loc.bucket}@${loc.region}`;
  return `s3://${where}${loc.prefix === '' ? '' : `/${loc.prefix}`}`;
}
