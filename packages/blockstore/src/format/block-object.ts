import { scanBlock } from '../block-scan.js';
import { blockCorrupt } from '../errors.js';
import type { BlockIdFunction } from './block-id.js';
import { CODECS, codecName, compress, decompress, type Compression } from './codec.js';

const MAGIC = Buffer.from('CVB1');
/** Bytes before a block object's payload. */
export const BLOCK_HEADER = 12;

/** A block object: "CVB1", codec, 3 reserved, uint32 LE raw length, payload (docs/format.md). */
export async function encodeBlock(codec: Compression, raw: Buffer): Promise<Buffer> {
  const { used, payload } = await choosePayload(codec, raw);
  return framed(used, raw.length, payload);
}

/**
 * The same object, from a frame that holds the raw bytes after BLOCK_HEADER bytes of room: a block
 * stored as is (incompressible, or no compression) is framed in place and the answer is a view of
 * `frame` (no copy of 2 MiB per block); a compressed one gets a buffer of its own.
 */
export async function encodeFramedBlock(codec: Compression, frame: Buffer, length: number): Promise<Buffer> {
  const raw = frame.subarray(BLOCK_HEADER, BLOCK_HEADER + length);
  const { used, payload } = await choosePayload(codec, raw);
  if (payload !== raw) return framed(used, length, payload);
  writeHeader(frame, used, length);
  return frame.subarray(0, BLOCK_HEADER + length);
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

const PROBE_SAMPLES = 8;
const PROBE_BYTES = 4096;

/**
 * True when 8 samples of 4 KiB spread over the block do not shrink by 2 %: random or already
 * compressed data, which then skips a full compression pass (a third of a typical volume, at
 * ~1 GB/s of CPU each). Small blocks are always compressed whole.
 */
async function incompressible(codec: Compression, raw: Buffer): Promise<boolean> {
  if (raw.length < PROBE_SAMPLES * PROBE_BYTES * 4) return false;
  const step = Math.floor(raw.length / PROBE_SAMPLES);
  const sample = Buffer.concat(Array.from({ length: PROBE_SAMPLES }, (_, i) => raw.subarray(i * step, i * step + PROBE_BYTES)));
  return (await compress(codec, sample)).length >= sample.length * 0.98;
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
  let raw: Buffer;
  try {
    raw = await decompress(codec, bytes.subarray(BLOCK_HEADER), length);
  } catch (err) {
    throw blockCorrupt(key, `cannot decompress (${codec}): ${(err as Error).message}`);
  }
  if (raw.length !== length) throw blockCorrupt(key, `length ${raw.length}, expected ${length}`);
  // A decompressed block is a buffer of its own; one stored as is, a view of `bytes`.
  const scanned = await scanBlock(ids, raw, { zeroCheck: false, transfer: owned || codec !== 'none' });
  const actual = (scanned.id ?? Buffer.alloc(0)).toString('hex');
  if (actual !== idHex) throw blockCorrupt(key, `content hash ${actual.slice(0, 16)}… does not match its id`);
  return scanned.data;
}
