// What the S3 driver does to bodies on the way up and down, off the main thread where it can:
//
// - Up: the body's SHA-256 is computed in libuv's pool (WebCrypto) and set as
//   `x-amz-content-sha256` before the request is signed. SigV4 signs that header and S3 (AWS,
//   Ceph radosgw) checks the body against it, refusing a body changed in transit
//   (XAmzContentSHA256Mismatch): the integrity Content-MD5 gave, without an MD5 (0.7 GB/s) and the
//   SDK's own SHA-256 both on the main thread.
// - Down: a body is read straight into one buffer of its Content-Length, not gathered in chunks,
//   concatenated and copied again.
import { webcrypto } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BuildMiddleware, MiddlewareStack } from '@smithy/types';

const SHA256_HEADER = 'x-amz-content-sha256';

/** The hex SHA-256 of a body, computed in libuv's thread pool. */
export async function payloadHash(body: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', body)).toString('hex');
}

/** Makes the command of `stack` send `hex` as its signed payload hash (the signer then hashes nothing itself). */
export function signPayload<I extends object, O extends object>(stack: MiddlewareStack<I, O>, hex: string): void {
  const set: BuildMiddleware<I, O> = (next) => (args) => {
    const req = args.request as { headers?: Record<string, string> };
    if (req.headers !== undefined) req.headers[SHA256_HEADER] = hex;
    return next(args);
  };
  stack.add(set, { step: 'build', name: 'convoyPayloadHash', override: true });
}

/** A response body cut short or running over its Content-Length: retried by the store's policy. */
function lengthMismatch(key: string, got: number, expected: number): Error {
  return Object.assign(new Error(`body of ${key} was ${got} bytes, not the ${expected} announced`), { name: 'BodyLengthMismatch' });
}

/**
 * Reads a response body. With a Content-Length, into one buffer of that size (a body that ends
 * early or runs over fails); without one, chunks are gathered.
 */
export async function readBody(body: unknown, contentLength: number | undefined, key: string): Promise<Buffer> {
  const stream = body as Readable & AsyncIterable<Uint8Array>;
  if (typeof stream[Symbol.asyncIterator] !== 'function') {
    const bytes = await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    const out = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (contentLength !== undefined && out.length !== contentLength) throw lengthMismatch(key, out.length, contentLength);
    return out;
  }
  if (contentLength === undefined) {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    return Buffer.concat(chunks);
  }
  const out = Buffer.allocUnsafe(contentLength);
  let at = 0;
  for await (const c of stream) {
    if (at + c.byteLength > contentLength) {
      stream.destroy();
      throw lengthMismatch(key, at + c.byteLength, contentLength);
    }
    out.set(c, at);
    at += c.byteLength;
  }
  if (at !== contentLength) throw lengthMismatch(key, at, contentLength);
  return out;
}
