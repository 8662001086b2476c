import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from '@convoy/errors';
import { openStore, type S3StoreOptions } from '../src/index.js';
import { S3ObjectStore } from '../src/s3.js';
import { objectStoreConformance, s3TestEnvironment } from '../src/testing/index.js';

// A real Ceph radosgw, started once per test run by tools/vitest/s3-global-setup.ts.
const env = s3TestEnvironment();
const bucket = `conformance-${randomBytes(4).toString('hex')}`;

function options(extra: Partial<S3StoreOptions> = {}): S3StoreOptions {
  if (env === undefined) throw new Error('no S3 test environment');
  return {
    endpoint: env.endpoint,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    // small thresholds so that the 40 and 64 MiB round trips go up as multipart uploads
    multipartThreshold: 16 * 1024 * 1024,
    partSize: 8 * 1024 * 1024,
    retry: { maxAttempts: 3, baseDelayMs: 50 },
    ...extra,
  };
}

describe.skipIf(env === undefined)('s3 driver on radosgw', () => {
  beforeAll(async () => {
    const o = options();
    const client = new S3Client({ endpoint: o.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: o.credentials });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
  });

  objectStoreConformance('s3 (radosgw)', {
    create: async () =>
      new S3ObjectStore({ kind: 's3', bucket, region: 'us-east-1', prefix: `t/${randomBytes(6).toString('hex')}` }, options({ listPageSize: 250 })).open(),
    createBroken: async () =>
      new S3ObjectStore(
        { kind: 's3', bucket, region: 'us-east-1', prefix: 'broken' },
        options({ credentials: { accessKeyId: 'AKTEST', secretAccessKey: 'wrong-secret' }, retry: { maxAttempts: 1 } }),
      ),
  });

  it('openStore refuses a bucket that does not exist, with a hint', async () => {
    const err = await openStore('s3://no-such-bucket-here@us-east-1/x', { s3: options() }).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('CONVOY_STORE_NOT_FOUND');
    expect((err as { hint?: string }).hint).toMatch(/create the bucket/);
  });

  it('openStore opens s3:// URLs with the endpoint from options and round-trips', async () => {
    const store = await openStore(`s3://${bucket}@us-east-1/open-test?backup=b1&volume=v1`, { s3: options() });
    try {
      await store.put('hello', Buffer.from('world'));
      expect((await store.get('hello')).toString()).toBe('world');
      expect(store.location).toBe(`s3://${bucket}@us-east-1/open-test`);
    } finally {
      await store.close();
    }
  });
});
