import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from '@convoy/errors';
import { openStore, type S3StoreOptions } from '../src/index.js';
import { S3ObjectStore } from '../src/s3.js';
import { payloadHash, signPayload } from '../src/drivers/s3-payload.js';
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

/** A plain SDK client on the test radosgw, with checksums only where required (as the store's). */
function rawClient(): S3Client {
  const o = options();
  return new S3Client({
    endpoint: o.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: o.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

describe.skipIf(env === undefined)('s3 driver on radosgw', () => {
  beforeAll(async () => {
    const client = rawClient();
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
  });

  objectStoreConformance('s3 (radosgw)', {
    create: async () =>
      new S3ObjectStore(
        { kind: 's3', bucket, region: 'us-east-1', prefix: `t/${randomBytes(6).toString('hex')}` },
        options({ listPageSize: 250 }),
      ).open(),
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

  it('radosgw refuses a body that does not match its signed SHA-256 (what replaces Content-MD5), and stores nothing', async () => {
    const client = rawClient();
    const Key = `signed/${randomBytes(6).toString('hex')}`;
    const sent = randomBytes(100_000);
    const damaged = Buffer.from(sent);
    damaged[50_000] = (damaged[50_000] ?? 0) ^ 1; // one bit changed "in transit", after the hash was signed
    try {
      const bad = new PutObjectCommand({ Bucket: bucket, Key, Body: damaged, ContentLength: damaged.length });
      signPayload(bad.middlewareStack, await payloadHash(sent));
      const err = (await client.send(bad).then(
        () => new Error('the damaged body was stored'),
        (e: unknown) => e,
      )) as Error & { $metadata?: { httpStatusCode?: number } };
      expect(err.$metadata?.httpStatusCode).toBe(400);
      expect(err.name).toMatch(/XAmzContentSHA256Mismatch|BadDigest/);
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key })).catch((e: unknown) => e as { name?: string });
      expect((head as { name?: string }).name).toBe('NotFound');
      // the same hash with the bytes it was computed from is stored
      const good = new PutObjectCommand({ Bucket: bucket, Key, Body: sent, ContentLength: sent.length });
      signPayload(good.middlewareStack, await payloadHash(sent));
      await client.send(good);
      expect((await client.send(new HeadObjectCommand({ Bucket: bucket, Key }))).ContentLength).toBe(sent.length);
    } finally {
      client.destroy();
    }
  });

  it("a put given the body's SHA-256 signs that one: the right hash stores the body, a wrong one is refused and stores nothing", async () => {
    const store = new S3ObjectStore(
      { kind: 's3', bucket, region: 'us-east-1', prefix: `given-${randomBytes(4).toString('hex')}` },
      options({ retry: { maxAttempts: 1 } }),
    );
    try {
      expect(store.hashesPayloads).toBe(true);
      const body = randomBytes(300_000);
      const wrong = createHash('sha256').update('another body').digest();
      await expect(store.put('blocks/x', body, { sha256: wrong })).rejects.toThrow();
      expect(await store.stat('blocks/x')).toBeUndefined();
      await store.put('blocks/x', body, { sha256: createHash('sha256').update(body).digest() });
      expect((await store.get('blocks/x')).equals(body)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('cleanupStale aborts the incomplete uploads under its prefix begun before the given time, and nothing else', async () => {
    const client = rawClient();
    const prefix = `cleanup/${randomBytes(6).toString('hex')}`;
    // one upload per page, so that the markers of ListMultipartUploads are exercised
    const store = await new S3ObjectStore({ kind: 's3', bucket, region: 'us-east-1', prefix }, options({ listPageSize: 1 })).open();
    const begin = async (key: string, partSizes: number[]): Promise<string> => {
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      if (UploadId === undefined) throw new Error('no upload id');
      for (const [i, size] of partSizes.entries()) {
        await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: Buffer.alloc(size, i) }));
      }
      return UploadId;
    };
    // radosgw answers ListParts of an aborted upload with NoSuchKey, AWS with NoSuchUpload: ask the listing
    const gone = async (key: string, UploadId: string): Promise<boolean> => {
      const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
      return !(out.Uploads ?? []).some((u) => u.Key === key && u.UploadId === UploadId);
    };
    try {
      await store.put('blocks/committed', Buffer.from('committed'));
      const mine = [
        { key: `${prefix}/blocks/killed-1`, id: await begin(`${prefix}/blocks/killed-1`, [1000, 24]) },
        { key: `${prefix}/killed-2`, id: await begin(`${prefix}/killed-2`, []) },
        { key: `${prefix}/killed-3`, id: await begin(`${prefix}/killed-3`, [7]) },
      ];
      const neighbour = { key: `${prefix}-other/x`, id: await begin(`${prefix}-other/x`, [5]) }; // another store's prefix

      // every upload began after the epoch: none is older
      expect(await store.cleanupStale({ olderThan: new Date(0) })).toEqual({ removed: 0, bytes: 0 });
      expect(await gone(mine[0]?.key ?? '', mine[0]?.id ?? '')).toBe(false);

      const later = new Date(Date.now() + 3_600_000); // radosgw runs on this host: same clock
      expect(await store.cleanupStale({ olderThan: later })).toEqual({ removed: 3, bytes: 1031 });
      for (const u of mine) expect(await gone(u.key, u.id)).toBe(true);
      expect(await gone(neighbour.key, neighbour.id)).toBe(false);
      expect((await store.get('blocks/committed')).toString()).toBe('committed');
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: neighbour.key, UploadId: neighbour.id }));
    } finally {
      await store.close();
      client.destroy();
    }
  });
});
