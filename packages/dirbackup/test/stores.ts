// The stores the integration tests run on: a filesystem store always, radosgw when it runs
// (always under CI=true: s3TestEnvironment throws there when it is missing).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { FsObjectStore, type ObjectStore } from '@convoy/objectstore';
import { S3ObjectStore } from '@convoy/objectstore/s3';
import { s3TestEnvironment } from '@convoy/objectstore/testing';

export interface StoreKind {
  name: string;
  create(): Promise<ObjectStore>;
}

let bucket: Promise<string> | undefined;

async function testBucket(): Promise<string> {
  const env = s3TestEnvironment();
  if (env === undefined) throw new Error('no S3 test environment');
  bucket ??= (async () => {
    const name = `dirbackup-${randomBytes(4).toString('hex')}`;
    const client = new S3Client({ endpoint: env.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: env });
    await client.send(new CreateBucketCommand({ Bucket: name }));
    client.destroy();
    return name;
  })();
  return bucket;
}

export const fsStore: StoreKind = {
  name: 'fs',
  create: async () => new FsObjectStore(await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-dir-fs-'))).open(),
};

export const s3Store: StoreKind = {
  name: 's3 (radosgw)',
  create: async () => {
    const env = s3TestEnvironment();
    if (env === undefined) throw new Error('no S3 test environment');
    return new S3ObjectStore(
      { kind: 's3', bucket: await testBucket(), region: 'us-east-1', prefix: `dir/${randomBytes(6).toString('hex')}` },
      { endpoint: env.endpoint, credentials: env },
    ).open();
  },
};

export function allStores(): StoreKind[] {
  return s3TestEnvironment() === undefined ? [fsStore] : [fsStore, s3Store];
}
