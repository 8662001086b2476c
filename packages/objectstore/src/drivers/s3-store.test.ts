// Unit tests of the S3 driver's failure handling against a scripted HTTP server on loopback.
// (The driver's normal behaviour is tested against a real radosgw in test/s3.conformance.test.ts.)
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { errorCode } from '@convoy/errors';
import { S3ObjectStore } from './s3-store.js';
import { rejectionOf } from '../testing/rejection.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
type Reply = (req: Seen, res: http.ServerResponse) => void;

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

async function fakeS3(replies: Reply[]): Promise<{ store: S3ObjectStore; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      const reply = replies[Math.min(seen.length - 1, replies.length - 1)];
      if (reply === undefined) throw new Error('no reply scripted');
      reply(s, res);
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const port = (server?.address() as AddressInfo).port;
  const store = new S3ObjectStore(
    { kind: 's3', bucket: 'bkt', region: 'us-east-1', prefix: 'pre' },
    {
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
      retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 },
    },
  );
  return { store, seen };
}

const xmlError =
  (status: number, code: string): Reply =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
  };
const ok: Reply = (_req, res) => {
  res.writeHead(200, { etag: '"x"' });
  res.end();
};
const dropConnection: Reply = (req, res) => {
  void req;
  res.socket?.destroy();
};

describe('S3ObjectStore failure handling', () => {
  it('retries 500 and 503 with backoff, then succeeds, signing the SHA-256 of the body', async () => {
    const { store, seen } = await fakeS3([xmlError(500, 'InternalError'), xmlError(503, 'SlowDown'), ok]);
    await store.put('blocks/a', Buffer.from('hello'));
    expect(seen.map((s) => s.method)).toEqual(['PUT', 'PUT', 'PUT']);
    expect(seen[0]?.url.split('?')[0]).toBe('/bkt/pre/blocks/a');
    expect(seen[2]?.headers['x-amz-content-sha256']).toBe(createHash('sha256').update('hello').digest('hex'));
    expect(seen[2]?.headers.authorization).toContain('x-amz-content-sha256'); // a signed header
    expect(seen[2]?.body.toString()).toBe('hello');
  });

  it('signs a SHA-256 the caller gives instead of hashing the body again', async () => {
    const { store, seen } = await fakeS3([ok]);
    const given = createHash('sha256').update('not hello').digest(); // S3 would refuse it; this fake does not check
    await store.put('blocks/a', Buffer.from('hello'), { sha256: given });
    expect(seen[0]?.headers['x-amz-content-sha256']).toBe(given.toString('hex')); // sent as given, not recomputed
  });

  it('never reports success when every attempt fails: the error names bucket, key and S3 code', async () => {
    const { store, seen } = await fakeS3([xmlError(500, 'InternalError')]);
    const err = await rejectionOf(store.put('blocks/a', Buffer.from('x')));
    expect(seen.length).toBe(4);
    expect(errorCode(err)).toBe('CONVOY_OBJECTSTORE_FAILED');
    expect(err.message).toContain('blocks/a');
    expect(err.message).toContain('s3://bkt@us-east-1/pre');
    expect(err.message).toContain('InternalError');
  });

  it('retries a dropped connection', async () => {
    const { store, seen } = await fakeS3([dropConnection, ok]);
    await store.put('k', Buffer.from('x'));
    expect(seen.length).toBe(2);
  });

  it('does not retry 403, and hints at credentials', async () => {
    const { store, seen } = await fakeS3([xmlError(403, 'SignatureDoesNotMatch')]);
    const err = await rejectionOf(store.get('k'));
    expect(seen.length).toBe(1);
    expect(err.message).toContain('SignatureDoesNotMatch');
    expect(err.hint).toMatch(/credentials/);
  });

  it('maps NoSuchKey to ObjectNotFoundError, and NoSuchBucket to a failure', async () => {
    const a = await fakeS3([xmlError(404, 'NoSuchKey')]);
    expect(errorCode(await a.store.get('k').catch((e: unknown) => e))).toBe('CONVOY_OBJECT_NOT_FOUND');
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    const b = await fakeS3([xmlError(404, 'NoSuchBucket')]);
    const err = await rejectionOf(b.store.get('k'));
    expect(errorCode(err)).toBe('CONVOY_OBJECTSTORE_FAILED');
    expect(err.hint).toMatch(/bucket/);
  });

  it('a retried conditional put that meets its own earlier write succeeds', async () => {
    let stored: Buffer | undefined;
    const { store, seen } = await fakeS3([
      (req, res) => {
        stored = req.body; // applied, but the answer is lost
        res.socket?.destroy();
      },
      xmlError(412, 'PreconditionFailed'),
      (_req, res) => {
        res.writeHead(200, { 'content-length': String(stored?.length ?? 0) });
        res.end(stored);
      },
    ]);
    await store.put('locks/l1', Buffer.from('mine'), { ifAbsent: true });
    expect(seen.map((s) => s.method)).toEqual(['PUT', 'PUT', 'GET']);
    expect(seen[0]?.headers['if-none-match']).toBe('*');
  });

  it('a retried conditional put whose read-back fails retries, and still finds its own write', async () => {
    let stored: Buffer | undefined;
    const mine: Reply = (_req, res) => {
      res.writeHead(200, { 'content-length': String(stored?.length ?? 0) });
      res.end(stored);
    };
    const { store, seen } = await fakeS3([
      (req, res) => {
        stored = req.body; // applied, but the answer is lost
        res.socket?.destroy();
      },
      xmlError(412, 'PreconditionFailed'),
      dropConnection, // the read-back is cut: that says nothing about whose object it is
      xmlError(412, 'PreconditionFailed'),
      mine,
    ]);
    await store.put('volumes/v/backups/b.json', Buffer.from('{"mine":true}'), { ifAbsent: true });
    expect(seen.map((s) => s.method)).toEqual(['PUT', 'PUT', 'GET', 'PUT', 'GET']);
  });

  it('a conditional put that loses to another writer is ObjectExistsError', async () => {
    const { store } = await fakeS3([
      dropConnection,
      xmlError(412, 'PreconditionFailed'),
      (_req, res) => {
        res.writeHead(200, { 'content-length': '6' });
        res.end('theirs');
      },
    ]);
    expect(errorCode(await store.put('locks/l1', Buffer.from('mine'), { ifAbsent: true }).catch((e: unknown) => e))).toBe(
      'CONVOY_OBJECT_EXISTS',
    );
  });

  it('batch delete: reports per-key errors S3 returns inside a 200, ignores NoSuchKey, sends Content-MD5', async () => {
    const { store, seen } = await fakeS3([
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><DeleteResult>' +
            '<Error><Key>pre/a</Key><Code>NoSuchKey</Code><Message>x</Message></Error>' +
            '<Error><Key>pre/b</Key><Code>AccessDenied</Code><Message>x</Message></Error>' +
            '</DeleteResult>',
        );
      },
    ]);
    const err = await rejectionOf(store.delete(['a', 'b', 'c']));
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('cannot delete 1 of 3');
    expect(err.message).toContain('b: AccessDenied');
    const req = seen[0];
    expect(req?.method).toBe('POST');
    expect(req?.headers['content-md5']).toBe(
      createHash('md5')
        .update(req?.body ?? '')
        .digest('base64'),
    );
    expect(req?.body.toString()).toContain('<Key>pre/c</Key>');
  });

  it('retries a body cut short, then returns the whole object', async () => {
    const { store, seen } = await fakeS3([
      (_req, res) => {
        res.writeHead(200, { 'content-length': '10' });
        res.write('12345');
        res.socket?.destroy();
      },
      (_req, res) => {
        res.writeHead(200, { 'content-length': '10' });
        res.end('1234567890');
      },
    ]);
    expect((await store.get('k')).toString()).toBe('1234567890');
    expect(seen.length).toBe(2);
  });

  it('stops retrying when cancelled', async () => {
    const { store } = await fakeS3([xmlError(503, 'SlowDown')]);
    const ac = new AbortController();
    const p = store.put('k', Buffer.from('x'), { signal: ac.signal });
    ac.abort();
    expect(errorCode(await p.catch((e: unknown) => e))).toBe('CONVOY_ABORTED');
  });

  it('cleanupStale pages through incomplete uploads under its prefix and aborts only those initiated before the given time', async () => {
    const upload = (key: string, id: string, initiated: string): string =>
      `<Upload><Key>${key}</Key><UploadId>${id}</UploadId><Initiated>${initiated}</Initiated></Upload>`;
    const xml = (res: http.ServerResponse, body: string): void => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
    };
    const { store, seen } = await fakeS3([
      (req, res) => {
        const url = new URL(req.url, 'http://s3');
        if (req.method === 'GET' && url.searchParams.has('uploads')) {
          if (url.searchParams.get('key-marker') === null) {
            return xml(
              res,
              '<ListMultipartUploadsResult><Bucket>bkt</Bucket><IsTruncated>true</IsTruncated>' +
                '<NextKeyMarker>pre/new</NextKeyMarker><NextUploadIdMarker>u-new</NextUploadIdMarker>' +
                upload('pre/blocks/old', 'u-old', '2024-01-01T00:00:00.000Z') +
                upload('pre/new', 'u-new', '2024-06-01T00:00:00.000Z') +
                '</ListMultipartUploadsResult>',
            );
          }
          return xml(
            res,
            '<ListMultipartUploadsResult><Bucket>bkt</Bucket><IsTruncated>false</IsTruncated>' +
              upload('pre/raced', 'u-raced', '2024-01-01T00:00:00.000Z') +
              upload('pre/not ours', 'u-foreign', '2024-01-01T00:00:00.000Z') +
              '</ListMultipartUploadsResult>',
          );
        }
        const id = url.searchParams.get('uploadId');
        if (req.method === 'GET' && id === 'u-old') {
          const second = url.searchParams.get('part-number-marker') === '1';
          return xml(
            res,
            `<ListPartsResult><Bucket>bkt</Bucket><Key>pre/blocks/old</Key><UploadId>u-old</UploadId>` +
              (second
                ? '<IsTruncated>false</IsTruncated><Part><PartNumber>2</PartNumber><Size>50</Size><ETag>"b"</ETag></Part>'
                : '<IsTruncated>true</IsTruncated><NextPartNumberMarker>1</NextPartNumberMarker><Part><PartNumber>1</PartNumber><Size>100</Size><ETag>"a"</ETag></Part>') +
              '</ListPartsResult>',
          );
        }
        if (req.method === 'GET' && id === 'u-raced') {
          return xml(res, '<ListPartsResult><Bucket>bkt</Bucket><IsTruncated>false</IsTruncated></ListPartsResult>');
        }
        if (req.method === 'DELETE' && id === 'u-old') {
          res.writeHead(204);
          return res.end();
        }
        // the upload completed (or another cleaner aborted it) between listing and aborting
        if (req.method === 'DELETE' && id === 'u-raced') return xmlError(404, 'NoSuchUpload')(req, res);
        return xmlError(400, 'UnexpectedRequest')(req, res);
      },
    ]);
    expect(await store.cleanupStale({ olderThan: new Date('2024-03-01T00:00:00Z') })).toEqual({ removed: 1, bytes: 150 });
    const lists = seen
      .filter((s) => new URL(s.url, 'http://s3').searchParams.has('uploads'))
      .map((s) => new URL(s.url, 'http://s3').searchParams);
    expect(lists.map((q) => [q.get('prefix'), q.get('key-marker'), q.get('upload-id-marker')])).toEqual([
      ['pre/', null, null],
      ['pre/', 'pre/new', 'u-new'],
    ]);
    const touched = seen.filter((s) => s.url.includes('uploadId=')).map((s) => `${s.method} ${s.url.split('?')[0]}`);
    expect(touched.filter((t) => t.startsWith('DELETE')).sort()).toEqual(['DELETE /bkt/pre/blocks/old', 'DELETE /bkt/pre/raced']);
    expect(touched.some((t) => t.includes('/pre/new') || t.includes('not'))).toBe(false);
  });

  it('cleanupStale failing to list is an error naming the store, never "nothing to clean"', async () => {
    const { store } = await fakeS3([xmlError(403, 'AccessDenied')]);
    const err = await rejectionOf(store.cleanupStale({ olderThan: new Date('2024-03-01T00:00:00Z') }));
    expect(err.code).toBe('CONVOY_OBJECTSTORE_FAILED');
    expect(err.message).toContain('s3://bkt@us-east-1/pre');
    expect(err.message).toContain('AccessDenied');
  });
});
