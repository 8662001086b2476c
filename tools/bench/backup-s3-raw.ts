// The S3 ceiling the backup bench compares Convoy with: PUT and GET of N random objects (default
// 256 × 2 MiB, the backup block size) with the AWS SDK v3 S3Client directly — no Convoy code, no
// hashing, no Content-MD5, bodies already in memory — at a fixed number of requests in flight.
import { createHash, randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

const MiB = 1024 * 1024;

export interface RawRate {
  op: 'put' | 'get';
  objects: number;
  objectBytes: number;
  concurrency: number;
  seconds: number;
  /** Binary megabytes (2^20 bytes) per second. */
  mibPerSec: number;
}

export interface RawOptions {
  client: S3Client;
  bucket: string;
  /** Keys are `<prefix>/<i>`; removed again at the end. */
  prefix: string;
  count: number;
  objectBytes: number;
  concurrency: number;
  signal: AbortSignal;
}

/** Runs `work(i)` for i in [0, count) with `concurrency` in flight; the first failure ends it. */
export async function inFlight(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
}

/**
 * Measures the raw PUT rate, then the raw GET rate of the same objects; every object read back
 * must have the sha256 of what was written (checked after the clock stops). One untimed PUT, GET
 * and DELETE first (radosgw creates its data pool on the first write, ~2 s). The objects are
 * deleted at the end, also on failure.
 */
export async function rawRates(o: RawOptions): Promise<{ put: RawRate; get: RawRate }> {
  const { client, bucket, signal } = o;
  const key = (i: number | string): string => `${o.prefix}/${i}`;
  const bodies = Array.from({ length: o.count }, () => randomBytes(o.objectBytes));
  const sha = bodies.map((b) => createHash('sha256').update(b).digest('hex'));
  const put = (k: string, body: Buffer): Promise<unknown> =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: body, ContentLength: body.length }), { abortSignal: signal });
  const get = async (k: string): Promise<Buffer> => {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: k }), { abortSignal: signal });
    if (out.Body === undefined) throw new Error(`GET ${k}: no body`);
    return Buffer.from(await out.Body.transformToByteArray());
  };
  const remove = (k: string): Promise<unknown> => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: k }), { abortSignal: signal });
  const rate = (op: 'put' | 'get', seconds: number): RawRate => ({
    op,
    objects: o.count,
    objectBytes: o.objectBytes,
    concurrency: o.concurrency,
    seconds,
    mibPerSec: (o.count * o.objectBytes) / MiB / seconds,
  });

  await put(key('warm-up'), bodies[0] as Buffer);
  await get(key('warm-up'));
  await remove(key('warm-up'));
  try {
    let began = performance.now();
    await inFlight(o.count, o.concurrency, async (i) => {
      await put(key(i), bodies[i] as Buffer);
    });
    const putRate = rate('put', (performance.now() - began) / 1000);
    const received: Buffer[] = [];
    began = performance.now();
    await inFlight(o.count, o.concurrency, async (i) => {
      received[i] = await get(key(i));
    });
    const getRate = rate('get', (performance.now() - began) / 1000);
    const wrong = sha.findIndex((h, i) => {
      const body = received[i];
      return body === undefined || createHash('sha256').update(body).digest('hex') !== h;
    });
    if (wrong >= 0) throw new Error(`raw S3 GET of ${key(wrong)} answered other bytes than were put: the S3 server is broken`);
    return { put: putRate, get: getRate };
  } finally {
    await inFlight(o.count, o.concurrency, async (i) => {
      await remove(key(i)).catch(() => undefined);
    });
  }
}
