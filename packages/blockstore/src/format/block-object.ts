import { scanBlock } from '../block-scan.js';
import { blockCorrupt } from '../errors.js';
import { hashWorkers } from '../hash-workers.js';
import { threadSpec, type BlockIdFunction } from './block-id.js';
import { CODECS, codecName, compress, decompress, PROBE, type Compression } from './codec.js';

const MAGIC = Buffer.from('CVB1');
/** Bytes before a block object's payload. */
export const BLOCK_HEADER = 12;

/** A block object: "CVB1", codec, 3 reserved, uint32 LE raw length, payload (docs/format.md). */
export async function encodeBlock(codec: Compression, raw: Buffer): Promise<Buffer> {
  if (codec === 'zstd') return (await zstdOnThread(copyIntoFrame(raw), raw.length)).object;
  const { used, payload } = await choosePayload(codec, raw);
  return framed(used, raw.length, payload);
}

/**
 * The same object, from a frame that holds the raw bytes after BLOCK_HEADER bytes of room. zstd
 * runs on a block thread (hash-workers.ts), which writes its output over the raw bytes: when the
 * frame is all of its ArrayBuffer (owned by the caller) it travels there and back and `object` is
 * a view of it (no copy of 2 MiB per block); use the answer's `frame` afterwards, never the one
 * given. A block stored as is is framed in place. lz4 and gzip objects get a buffer of their own.
 * `objectHash`: also the object's SHA-256 when the thread can give it with the encoding (zstd in a
 * frame that travels), for a store that would hash the body itself (ObjectStore.hashesPayloads).
 */
export async function encodeFramedBlock(
  codec: Compression,
  frame: Buffer,
  length: number,
  options: { objectHash?: boolean } = {},
): Promise<{ object: Buffer; frame: Buffer; sha256?: Buffer }> {
  if (codec === 'zstd') {
    const ab = frame.buffer;
    if (ab instanceof ArrayBuffer && frame.byteOffset === 0 && frame.length === ab.byteLength) {
      try {
        return await zstdOnThread(frame, length, options.objectHash === true);
      } catch (err) {
        if ((err as Error).name !== 'DataCloneError') throw err; // untransferable: still here, copied below
      }
    }
    return { object: (await zstdOnThread(copyIntoFrame(frame.subarray(BLOCK_HEADER, BLOCK_HEADER + length)), length)).object, frame };
  }
  const raw = frame.subarray(BLOCK_HEADER, BLOCK_HEADER + length);
  const { used, payload } = await choosePayload(codec, raw);
  if (payload !== raw) return { object: framed(used, length, payload), frame };
  writeHeader(frame, used, length);
  return { object: frame.subarray(0, BLOCK_HEADER + length), frame };
}

/**
 * Every zstd block object is encoded by the block threads, with one set of parameters: the same
 * content gives the same bytes wherever it is encoded (node:zlib's streaming encoder, used on the
 * calling thread, cuts the frame differently).
 */
async function zstdOnThread(
  frame: Buffer,
  length: number,
  objectHash = false,
): Promise<{ object: Buffer; frame: Buffer; sha256?: Buffer }> {
  const { byteOffset, length: frameLength } = frame; // the view is detached while its memory travels
  const heads = objectHash ? { compressed: headerOf('zstd', length), none: headerOf('none', length) } : undefined;
  const r = await hashWorkers().compress({ frame: frame.buffer as ArrayBuffer, offset: byteOffset + BLOCK_HEADER, length, heads });
  const back = Buffer.from(r.frame, byteOffset, frameLength);
  writeHeader(back, r.size === undefined ? 'none' : 'zstd', length);
  const object = back.subarray(0, BLOCK_HEADER + (r.size ?? length));
  return r.sha256 === undefined ? { object, frame: back } : { object, frame: back, sha256: r.sha256 };
}

function headerOf(used: Compression, rawLength: number): Buffer {
  const head = Buffer.alloc(BLOCK_HEADER);
  writeHeader(head, used, rawLength);
  return head;
}

/** A frame of its own holding `raw` after the header's room. */
function copyIntoFrame(raw: Buffer): Buffer {
  const frame = Buffer.allocUnsafeSlow(BLOCK_HEADER + raw.length);
  raw.copy(frame, BLOCK_HEADER);
  return frame;
}

/** Header and payload in a buffer of their own. */
function framed(used: Compression, rawLength: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(BLOCK_HEADER + payload.length);
  writeHeader(out, used, rawLength);
  payload.copy(out, BLOCK_HEADER);
  return out;
}

async function choosePayload(codec: Compression, raw: Buffer): Promise<{ used: Compression; payload: Buffer }> {
  if (codec === 'none' || (await incompressible(codec, raw))) return { used: 'none', payload: raw };
  const payload = await compress(codec, raw);
  // incompressible after all: store as is, saves decoding time on restore
  return payload.length >= raw.length ? { used: 'none', payload: raw } : { used: codec, payload };
}

function writeHeader(out: Buffer, used: Compression, rawLength: number): void {
  MAGIC.copy(out, 0);
  out[4] = CODECS[used];
  out.fill(0, 5, 8);
  out.writeUInt32LE(rawLength, 8);
}

/**
 * True when 8 samples of 4 KiB spread over the block do not shrink by 2 %: random or already
 * compressed data, which then skips a full compression pass (a third of a typical volume, at
 * ~1 GB/s of CPU each). Small blocks are always compressed whole.
 */
async function incompressible(codec: Compression, raw: Buffer): Promise<boolean> {
  const { probeSamples, probeBytes, probeMin, probeRatio } = PROBE;
  if (raw.length < probeMin) return false;
  const step = Math.floor(raw.length / probeSamples);
  const sample = Buffer.concat(Array.from({ length: probeSamples }, (_, i) => raw.subarray(i * step, i * step + probeBytes)));
  return (await compress(codec, sample)).length >= sample.length * probeRatio;
}

/**
 * Decodes and verifies a block object: the recomputed id must equal `idHex`. `owned`: the caller
 * owns all of `bytes.buffer` and uses neither `bytes` nor other views of it afterwards (the block
 * may then be hashed on a thread straight from it; scanBlock); the answer is always safe to use.
 */
export async function decodeBlock(key: string, idHex: string, bytes: Buffer, ids: BlockIdFunction, owned = false): Promise<Buffer> {
  if (bytes.length < BLOCK_HEADER || !bytes.subarray(0, 4).equals(MAGIC)) throw blockCorrupt(key, 'bad header');
  const codec = codecName(bytes[4] ?? 255);
  if (codec === undefined) throw blockCorrupt(key, `unknown codec ${bytes[4]}`);
  const length = bytes.readUInt32LE(8);
  const decoded = codec === 'zstd' && owned ? await decodeOnThread(key, bytes, length, ids) : undefined;
  if (decoded !== undefined) {
    checkDecoded(key, idHex, decoded.data, length, decoded.id);
    return decoded.data;
  }
  let raw: Buffer;
  try {
    raw = await decompress(codec, bytes.subarray(BLOCK_HEADER), length);
  } catch (err) {
    throw blockCorrupt(key, `cannot decompress (${codec}): ${(err as Error).message}`);
  }
  // A decompressed block is a buffer of its own; one stored as is, a view of `bytes`.
  const scanned = await scanBlock(ids, raw, { zeroCheck: false, transfer: owned || codec !== 'none' });
  checkDecoded(key, idHex, scanned.data, length, scanned.id);
  return scanned.data;
}

function checkDecoded(key: string, idHex: string, raw: Buffer, length: number, id: Buffer | undefined): void {
  if (raw.length !== length) throw blockCorrupt(key, `length ${raw.length}, expected ${length}`);
  const actual = (id ?? Buffer.alloc(0)).toString('hex');
  if (actual !== idHex) throw blockCorrupt(key, `content hash ${actual.slice(0, 16)}… does not match its id`);
}

/**
 * A zstd object the caller owns, decoded and hashed on a block thread in one trip (its memory goes
 * there for good); undefined when this cannot be (an id function of its own, memory that cannot travel).
 */
async function decodeOnThread(
  key: string,
  bytes: Buffer,
  expected: number,
  ids: BlockIdFunction,
): Promise<{ data: Buffer; id: Buffer } | undefined> {
  const spec = threadSpec(ids);
  const ab = bytes.buffer;
  if (spec === undefined || !(ab instanceof ArrayBuffer)) return undefined;
  const payload = { frame: ab, offset: bytes.byteOffset + BLOCK_HEADER, length: bytes.length - BLOCK_HEADER, expected, key: spec.key };
  let r;
  try {
    r = await hashWorkers().decode(payload);
  } catch (err) {
    if ((err as Error).name === 'DataCloneError') return undefined; // still here: decoded on this thread
    throw err;
  }
  if ('corrupt' in r) throw blockCorrupt(key, `cannot decompress (zstd): ${r.corrupt}`);
  return r;
}
