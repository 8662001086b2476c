// The envelope's whole-body seal and segment open (envelope.ts) with every segment sealed or
// opened by WebCrypto's AES-GCM, which runs in libuv's thread pool: a backup or restore of an
// encrypted store then encrypts on the pool's threads while the event loop reads, compresses and
// writes, as block ids are hashed (block-id.ts digestAsync). The bytes are the same as
// envelope.ts's: WebCrypto's AES-GCM output is the ciphertext followed by its 16-byte tag, which
// is how a segment is stored. Bodies below ASYNC_MIN stay on the calling thread (a hop to the pool
// costs more than sealing a few hundred bytes).
import { webcrypto } from 'node:crypto';
import {
  ENVELOPE_HEADER,
  TAG_BYTES,
  newObject,
  nonce,
  objectTampered,
  openHeader,
  openSegments,
  openedLength,
  sealBody,
  sealedSize,
  segmentSpans,
} from './envelope.js';

/** Bodies (and sealed reads) smaller than this are sealed and opened on the calling thread. */
export const ASYNC_MIN = 32 * 1024;

const gcm = (iv: Uint8Array, aad: Uint8Array): webcrypto.AesGcmParams => ({
  name: 'AES-GCM',
  iv,
  additionalData: aad,
  tagLength: TAG_BYTES * 8,
});

/** sealBody, its segments sealed in the thread pool. */
export async function sealBodyAsync(encKey: Buffer, objectName: string, body: Uint8Array, segmentSize: number): Promise<Buffer> {
  if (body.length < ASYNC_MIN) return sealBody(encKey, objectName, body, segmentSize);
  const o = newObject(encKey, objectName);
  const key = await webcrypto.subtle.importKey('raw', o.key, 'AES-GCM', false, ['encrypt']);
  const out = Buffer.allocUnsafe(sealedSize(body.length, segmentSize));
  o.head.copy(out, 0);
  const jobs: Promise<void>[] = [];
  for (let off = 0, i = 0, at = ENVELOPE_HEADER; ; off += segmentSize, i++) {
    const last = body.length - off < segmentSize;
    const plain = body.subarray(off, last ? body.length : off + segmentSize);
    const where = at;
    jobs.push(webcrypto.subtle.encrypt(gcm(nonce(i, last), o.aad), key, plain).then((sealed) => out.set(new Uint8Array(sealed), where)));
    at += plain.length + TAG_BYTES;
    if (last) break;
  }
  await Promise.all(jobs);
  return out;
}

/** openSegments, its segments opened in the thread pool; the first that does not authenticate is named. */
export async function openSegmentsAsync(
  k: { key: Buffer; aad: Buffer },
  objectName: string,
  sealed: Uint8Array,
  first: number,
  segmentSize: number,
  wholeTail: boolean,
): Promise<Buffer> {
  if (sealed.length < ASYNC_MIN) return openSegments(k, objectName, sealed, first, segmentSize, wholeTail);
  const spans = segmentSpans(objectName, sealed.length, first, segmentSize, wholeTail);
  const out = Buffer.allocUnsafe(openedLength(spans));
  const key = await webcrypto.subtle.importKey('raw', k.key, 'AES-GCM', false, ['decrypt']);
  const results = await Promise.allSettled(
    spans.map((s) =>
      webcrypto.subtle
        .decrypt(gcm(nonce(s.index, s.last), k.aad), key, sealed.subarray(s.at, s.at + s.length))
        .then((plain) => out.set(new Uint8Array(plain), s.plainAt)),
    ),
  );
  const bad = results.findIndex((r) => r.status === 'rejected');
  if (bad >= 0) throw objectTampered(objectName, `segment ${(spans[bad]?.index ?? 0).toString()} does not authenticate`);
  return out;
}

/** openBody, its segments opened in the thread pool. */
export async function openBodyAsync(encKey: Buffer, objectName: string, stored: Uint8Array, segmentSize: number): Promise<Buffer> {
  const k = openHeader(encKey, objectName, stored);
  return openSegmentsAsync(k, objectName, stored.subarray(ENVELOPE_HEADER), 0, segmentSize, true);
}
