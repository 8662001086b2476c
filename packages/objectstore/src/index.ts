export type {
  ByteRange,
  CleanupStaleOptions,
  CleanupStaleResult,
  DeleteOptions,
  GetOptions,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutOptions,
} from './types.js';
export {
  InvalidKeyError,
  InvalidStoreUrlError,
  ObjectExistsError,
  ObjectNotFoundError,
  ObjectStoreError,
  OperationAbortedError,
} from './errors.js';
export { MAX_KEY_LENGTH, MAX_SEGMENT_LENGTH, isValidKey, validateKey, validatePrefix } from './keys.js';
export {
  formatStoreUrl,
  parseStoreUrl,
  s3EndpointProblem,
  type ParsedStoreUrl,
  type S3Location,
  type StoreLocation,
  type VfsLocation,
} from './url.js';
export { assertStoreExists, openStore, type OpenStoreOptions } from './open.js';
export { parseJsonBytes, readJsonRecord, type RecordSchema } from './json-record.js';
export { FsObjectStore } from './drivers/fs-store.js';
// The S3 driver (and the AWS SDK, ~20 MB and ~0.3 s to load) is loaded only when used:
// openStore imports it for s3:// URLs; `@convoy/objectstore/s3` exports the class itself.
export type { S3Credentials, S3StoreOptions } from './drivers/s3-store.js';
export { DEFAULT_RETRY, sleep, type RetryPolicy } from './retry.js';
export { bodyToBuffer } from './body.js';
