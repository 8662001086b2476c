// A server that stops answering must not hang the S3 driver: a request with no byte moving for
// `requestTimeoutMs` fails and is retried, and the call gives up once its attempts are spent.
// (The SDK's own `requestTimeout` only logs a warning: a stalled radosgw hung convoy-backup.)
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from './s3-store.js';
import { rejectionOf } from '../testing/rejection.js';

type Reply = (res: http.ServerResponse) => void;

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

async function scripted(replies: Reply[], requestTimeoutMs = 200): Promise<{ store: S3ObjectStore; requests: () => number }> {
  let n = 0;
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => (replies[Math.min(n++, replies.length - 1)] as Reply)(res));
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const store = new S3ObjectStore(
    { kind: 's3', bucket: 'bkt', region: 'us-east-1', prefix: 'pre' },
    {
      endpoint: `http://127.0.0.1:${(server?.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
      requestTimeoutMs,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    },
  );
  return { store, requests: () => n };
}

const never: Reply = () => undefined;
const body = Buffer.from('0123456789'.repeat(100));
const halfThenStall: Reply = (res) => {
  res.writeHead(200, { 'content-length': body.length });
  res.write(body.subarray(0, 500));
};
const whole: Reply = (res) => {
  res.writeHead(200, { 'content-length': body.length });
  res.end(body);
};

describe('S3 driver against a server that stalls', () => {
  it('a request never answered times out, is retried, and the call fails with CONVOY_OBJECTSTORE_FAILED', async () => {
    const { store, requests } = await scripted([never]);
    const err = await rejectionOf(store.stat('k'));
    expect(err.code).toBe('CONVOY_OBJECTSTORE_FAILED');
    expect(err.message).toMatch(/TimeoutError|timed out/);
    expect(requests()).toBe(3);
    await store.close();
  });

  it('a body that stops halfway is retried, and the whole object is returned', async () => {
    // 1 s, not 200 ms: the server shares the event loop, and on a loaded machine the timer of the
    // retried request could fire before the server's answer to it is handled
    const { store, requests } = await scripted([halfThenStall, whole], 1000);
    expect((await store.get('k')).equals(body)).toBe(true);
    expect(requests()).toBe(2);
    await store.close();
  });
});
