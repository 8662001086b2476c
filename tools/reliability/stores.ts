// The stores the campaigns run against — a vfs:// directory or a prefix in a radosgw bucket — and
// raw access to their objects that does not go through Convoy's libraries: to inflict damage, copy
// a store, count what is there, and to judge Convoy with code that is not Convoy's.
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import fs from 'node:fs/promises';
import path from 'node:path';

export type StoreKind = 'vfs' | 's3';
export const STORE_KINDS: readonly StoreKind[] = ['vfs', 's3'];

export interface S3Endpoint {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** The radosgw of this run (tools/vitest/s3-global-setup.ts exports it to the workers). Never optional. */
export function s3FromEnv(): S3Endpoint {
  const endpoint = process.env.CONVOY_TEST_S3_ENDPOINT;
  if (endpoint === undefined || endpoint === '') {
    throw new Error(
      'no S3 server: CONVOY_TEST_S3_ENDPOINT is unset (the s3 global setup starts radosgw; the reliability campaigns never skip S3)',
    );
  }
  return {
    endpoint,
    accessKeyId: process.env.CONVOY_TEST_S3_ACCESS_KEY ?? 'AKTEST',
    secretAccessKey: process.env.CONVOY_TEST_S3_SECRET_KEY ?? 'SKTEST',
  };
}

/** Objects of one store, by key relative to the store. */
export interface RawStore {
  get(key: string): Promise<Buffer | undefined>;
  put(key: string, body: Buffer): Promise<void>;
  remove(key: string): Promise<void>;
  /** Keys under `prefix`, sorted. */
  list(prefix?: string): Promise<string[]>;
}

export interface StoreTarget {
  kind: StoreKind;
  /** vfs:///dir or s3://bucket/prefix */
  url: string;
  /** What convoy-backup needs in its environment for this store. */
  env: Record<string, string>;
  raw: RawStore;
  /** Another store of the same kind beside this one, holding a copy of every object. */
  copy(name: string): Promise<StoreTarget>;
  /** Removes every object (frees radosgw's in-memory OSD). */
  dispose(): Promise<void>;
}

interface Bucket {
  client: S3Client;
  bucket: string;
  env: Record<string, string>;
}

/** Where a campaign keeps its stores: a directory for vfs, a bucket for s3. */
export class StoreHome {
  readonly #dir: string;
  readonly #s3: Bucket;

  private constructor(dir: string, s3: Bucket) {
    this.#dir = dir;
    this.#s3 = s3;
  }

  /** `bucket` is created on the S3 server of this run. */
  static async open(dir: string, bucket: string, endpoint: S3Endpoint): Promise<StoreHome> {
    await fs.mkdir(dir, { recursive: true });
    const client = new S3Client({
      endpoint: endpoint.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const env = {
      AWS_ACCESS_KEY_ID: endpoint.accessKeyId,
      AWS_SECRET_ACCESS_KEY: endpoint.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: endpoint.endpoint,
    };
    return new StoreHome(dir, { client, bucket, env });
  }

  store(kind: StoreKind, name: string): StoreTarget {
    return kind === 'vfs' ? this.#vfs(path.join(this.#dir, name)) : this.#s3Store(name);
  }

  close(): void {
    this.#s3.client.destroy();
  }

  #vfs(dir: string): StoreTarget {
    const file = (key: string): string => path.join(dir, ...key.split('/'));
    const raw: RawStore = {
      get: (key) => fs.readFile(file(key)).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err))),
      put: async (key, body) => {
        await fs.mkdir(path.dirname(file(key)), { recursive: true });
        await fs.writeFile(file(key), body);
      },
      remove: (key) => fs.rm(file(key), { force: true }),
      list: async (prefix = '') => {
        const from = path.join(dir, ...prefix.split('/').slice(0, -1)); // the deepest directory the prefix names
        const entries = await fs.readdir(from, { recursive: true, withFileTypes: true }).catch(() => []);
        return entries
          .filter((e) => e.isFile())
          .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
          .filter((k) => k.startsWith(prefix))
          .sort();
      },
    };
    return {
      kind: 'vfs',
      url: `vfs://${dir}`,
      env: {},
      raw,
      copy: async (name) => {
        const to = path.join(path.dirname(dir), name);
        await fs.cp(dir, to, { recursive: true });
        return this.#vfs(to);
      },
      dispose: () => fs.rm(dir, { recursive: true, force: true }),
    };
  }

  #s3Store(prefix: string): StoreTarget {
    const s3 = this.#s3;
    const { client, bucket } = s3;
    const full = (key: string): string => `${prefix}/${key}`;
    const listFull = async (p: string): Promise<string[]> => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: full(p), ContinuationToken: token }));
        for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return keys.sort();
    };
    const raw: RawStore = {
      get: async (key) => {
        try {
          const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: full(key) }));
          return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
        } catch (err) {
          if (err instanceof NoSuchKey) return undefined;
          throw err;
        }
      },
      put: async (key, body) => {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: full(key), Body: body, ContentLength: body.length }));
      },
      remove: async (key) => {
        await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: full(key) }] } }));
      },
      list: async (p = '') => (await listFull(p)).map((k) => k.slice(prefix.length + 1)),
    };
    return {
      kind: 's3',
      url: `s3://${bucket}/${prefix}`,
      env: s3.env,
      raw,
      copy: async (name) => {
        for (const key of await listFull('')) {
          await client.send(
            new CopyObjectCommand({ Bucket: bucket, Key: `${name}/${key.slice(prefix.length + 1)}`, CopySource: `${bucket}/${key}` }),
          );
        }
        return this.#s3Store(name);
      },
      dispose: async () => {
        const keys = await listFull('');
        for (let i = 0; i < keys.length; i += 1000) {
          await client.send(
            new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }),
          );
        }
      },
    };
  }
}
