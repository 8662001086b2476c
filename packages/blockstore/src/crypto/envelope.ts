// The envelope every object body of an encrypted store is stored in (docs/format.md,
// "Encryption"): a header with a per-object random salt, then the body in segments, each sealed
// with AES-256-GCM under a key derived from the store's key and the salt. Segments let a range
// read decrypt only what it asks for (packs and reference files are read by ranges).
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { ConvoyError } from '@convoy/errors';

export const ENVELOPE_MAGIC = Buffer.from('CVE1');
/** Magic (4), version (1), reserved (3), salt (32). */
export const ENVELOPE_HEADER = 40;
export const TAG_BYTES = 16;
export const DEFAULT_SEGMENT_SIZE = 64 * 1024;
const SALT_OFFSET = 8;
const SALT_BYTES = 32;
const OBJECT_KEY_LABEL = Buffer.from('convoy-object-key-v1');

/** An object that does not authenticate: modified, truncated, or not written with this store's key. */
export function objectTampered(key: string, reason: string): ConvoyError {
  return new ConvoyError('CONVOY_OBJECT_TAMPERED', `object ${key} fails authentication: ${reason}`, {
    hint: 'the object was modified or damaged after it was written, or written with another key; run `convoy-backup verify STORE --read-data`',
    details: { key },
  });
}

/** The stored size of a body of `n` bytes: the header, the bytes, one tag per segment (the last one is always short). */
export function sealedSize(n: number, segmentSize: number): number {
  return ENVELOPE_HEADER + n + (Math.floor(n / segmentSize) + 1) * TAG_BYTES;
}

/** The body size of a stored size, or undefined when no body seals to that size (a damaged object). */
export function openedSize(stored: number, segmentSize: number): number | undefined {
  const rest = stored - ENVELOPE_HEADER;
  if (rest < TAG_BYTES) return undefined;
  const whole = Math.floor(rest / (segmentSize + TAG_BYTES));
  const last = rest - whole * (segmentSize + TAG_BYTES);
  if (last < TAG_BYTES) return undefined;
  return whole * segmentSize + last - TAG_BYTES;
}

function headerBytes(salt: Buffer): Buffer {
  const h = Buffer.alloc(ENVELOPE_HEADER);
  ENVELOPE_MAGIC.copy(h, 0);
  h[4] = 1;
  salt.copy(h, SALT_OFFSET);
  return h;
}

/** The nonce of segment `index`: its index (uint64 BE), then 1 for the last segment, else 0 (uint32 BE). */
export function nonce(index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(index), 0);
  n.writeUInt32BE(last ? 1 : 0, 8);
  return n;
}

function aad(head: Buffer, key: string): Buffer {
  return Buffer.concat([head.subarray(0, SALT_OFFSET), Buffer.from(key, 'utf8')]);
}

function objectKey(encKey: Buffer, salt: Buffer): Buffer {
  return createHmac('sha256', encKey).update(OBJECT_KEY_LABEL).update(salt).digest();
}

/** What sealing a new object takes: its header (with a fresh salt), the key its segments are sealed with, their AAD. */
export function newObject(encKey: Buffer, objectName: string): { head: Buffer; key: Buffer; aad: Buffer } {
  const head = headerBytes(randomBytes(SALT_BYTES));
  return { head, key: objectKey(encKey, head.subarray(SALT_OFFSET)), aad: aad(head, objectName) };
}

/** Seals a body in segments as they come; one body of any length, never held whole. */
export class Sealer {
  /** A KeyObject, made once per object: a raw key would be checked and wrapped again for every segment. */
  readonly #key: KeyObject;
  readonly #aad: Buffer;
  readonly #size: number;
  #index = 0;
  readonly head: Buffer;

  constructor(encKey: Buffer, objectName: string, segmentSize: number) {
    const o = newObject(encKey, objectName);
    this.head = o.head;
    this.#key = createSecretKey(o.key);
    this.#aad = o.aad;
    this.#size = segmentSize;
  }

  /** One segment: exactly segmentSize bytes, or fewer for the last (and only then `last`). */
  seal(plain: Uint8Array, last: boolean): Buffer {
    const out = Buffer.allocUnsafe(plain.length + TAG_BYTES);
    this.sealInto(plain, last, out, 0);
    return out;
  }

  /** The same, written into `out` at `at` (ciphertext, then tag): no buffer of its own to copy again. */
  sealInto(plain: Uint8Array, last: boolean, out: Buffer, at: number): void {
    if (last ? plain.length >= this.#size : plain.length !== this.#size) throw new Error('envelope: bad segment length');
    const c = createCipheriv('aes-256-gcm', this.#key, nonce(this.#index++, last));
    c.setAAD(this.#aad);
    c.update(plain).copy(out, at);
    c.final();
    c.getAuthTag().copy(out, at + plain.length);
  }
}

/**
 * A whole body sealed at once, into `into` when it is large enough (the answer is then a view of
 * it), else into a buffer of its own.
 */
export function sealBody(encKey: Buffer, objectName: string, body: Uint8Array, segmentSize: number, into?: Buffer): Buffer {
  const s = new Sealer(encKey, objectName, segmentSize);
  const size = sealedSize(body.length, segmentSize);
  const out = into !== undefined && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafe(size);
  s.head.copy(out, 0);
  let at = ENVELOPE_HEADER;
  for (let off = 0; ; off += segmentSize) {
    const last = body.length - off < segmentSize;
    const plain = body.subarray(off, last ? body.length : off + segmentSize);
    s.sealInto(plain, last, out, at);
    at += plain.length + TAG_BYTES;
    if (last) return out;
  }
}

/** Seals a stream of chunks (any sizes) into a stream of sealed bytes. */
export async function* sealStream(
  encKey: Buffer,
  objectName: string,
  body: AsyncIterable<Uint8Array>,
  segmentSize: number,
): AsyncGenerator<Buffer> {
  const s = new Sealer(encKey, objectName, segmentSize);
  yield s.head;
  let pending = Buffer.alloc(0);
  for await (const chunk of body) {
    pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
    // Keep at least one byte back: a segment is `last` only when the body ends inside it.
    let off = 0;
    while (pending.length - off > segmentSize) {
      yield s.seal(pending.subarray(off, off + segmentSize), false);
      off += segmentSize;
    }
    pending = pending.subarray(off);
  }
  if (pending.length === segmentSize) {
    yield s.seal(pending, false);
    pending = Buffer.alloc(0);
  }
  yield s.seal(pending, true);
}

/** Checks the header of a stored object and returns the key its segments are sealed with. */
export function openHeader(encKey: Buffer, objectName: string, stored: Uint8Array): { key: Buffer; aad: Buffer } {
  if (stored.length < ENVELOPE_HEADER) throw objectTampered(objectName, 'it is shorter than the envelope header');
  const head = Buffer.from(stored.buffer, stored.byteOffset, ENVELOPE_HEADER);
  if (!head.subarray(0, 4).equals(ENVELOPE_MAGIC) || head[4] !== 1) {
    throw objectTampered(objectName, 'it has no encryption envelope (was it written without the key?)');
  }
  return { key: objectKey(encKey, Buffer.from(head.subarray(SALT_OFFSET, ENVELOPE_HEADER))), aad: aad(Buffer.from(head), objectName) };
}

/** One sealed segment held in a read: where it sits in the sealed bytes, and where its plaintext goes. */
export interface SegmentSpan {
  index: number;
  /** Offset of the segment (ciphertext, then tag) in the sealed bytes. */
  at: number;
  /** Ciphertext + tag bytes. */
  length: number;
  /** The object's last segment (the short one). */
  last: boolean;
  /** Offset of its plaintext in the opened bytes. */
  plainAt: number;
}

/**
 * The segments `first`, `first + 1`, … held in `sealedLength` bytes. Throws when one is cut below
 * its tag, or (`wholeTail`) when the bytes end on a full segment: a body always ends in a short
 * one, so its end was cut off.
 */
export function segmentSpans(
  objectName: string,
  sealedLength: number,
  first: number,
  segmentSize: number,
  wholeTail: boolean,
): SegmentSpan[] {
  const step = segmentSize + TAG_BYTES;
  const spans: SegmentSpan[] = [];
  for (let at = 0, i = first; at < sealedLength; at += step, i++) {
    const length = Math.min(step, sealedLength - at);
    if (length < TAG_BYTES) throw objectTampered(objectName, `segment ${i} is truncated`);
    spans.push({ index: i, at, length, last: length < step, plainAt: (i - first) * segmentSize });
  }
  if (wholeTail && spans.at(-1)?.last !== true) throw objectTampered(objectName, 'it is truncated');
  return spans;
}

/** Bytes the spans open to. */
export const openedLength = (spans: readonly SegmentSpan[]): number => spans.reduce((n, s) => n + s.length - TAG_BYTES, 0);

/**
 * Opens sealed segments `first`, `first + 1`, … held in `sealed` (which starts at segment `first`).
 * `inPlace`: the plaintext is written over `sealed` itself (the answer is a view of it; each
 * segment's plaintext lands before the next segment's bytes), which must then be the caller's to
 * spoil: after a failure it holds neither.
 */
export function openSegments(
  k: { key: Buffer; aad: Buffer },
  objectName: string,
  sealed: Uint8Array,
  first: number,
  segmentSize: number,
  wholeTail: boolean,
  inPlace = false,
): Buffer {
  const spans = segmentSpans(objectName, sealed.length, first, segmentSize, wholeTail);
  const length = openedLength(spans);
  const out = inPlace ? Buffer.from(sealed.buffer, sealed.byteOffset, length) : Buffer.allocUnsafe(length);
  const key = createSecretKey(k.key);
  for (const s of spans) {
    const seg = sealed.subarray(s.at, s.at + s.length);
    const d = createDecipheriv('aes-256-gcm', key, nonce(s.index, s.last));
    d.setAAD(k.aad);
    d.setAuthTag(seg.subarray(seg.length - TAG_BYTES));
    const plain = d.update(seg.subarray(0, seg.length - TAG_BYTES));
    try {
      d.final();
    } catch {
      throw objectTampered(objectName, `segment ${s.index} does not authenticate`);
    }
    plain.copy(out, s.plainAt);
  }
  return out;
}

/** Opens a whole stored object; `inPlace`: into `stored` itself (see openSegments). */
export function openBody(encKey: Buffer, objectName: string, stored: Uint8Array, segmentSize: number, inPlace = false): Buffer {
  const k = openHeader(encKey, objectName, stored);
  return openSegments(k, objectName, stored.subarray(ENVELOPE_HEADER), 0, segmentSize, true, inPlace);
}
