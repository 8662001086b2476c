import { blockCorrupt } from '../errors.js';
import type { BlockIdFunction } from './block-id.js';
import { CODECS, codecName, compress, decompress, type Compression } from './codec.js';

const MAGIC = Buffer.from('CVB1');
const HEADER = 12;

/** A block object: "CVB1", codec, 3 reserved, uint32 LE raw length, payload (docs/format.md). */
export async function encodeBlock(codec: Compression, raw: Buffer): Promise<Buffer> {
  let used: Compression = codec;
  if (codec !== 'none' && (await incompressible(codec, raw))) used = 'none';
  let payload = used === 'none' ? raw : await compress(codec, raw);
  if (codec !== 'none' && payload.length >= raw.length) {
    used = 'none'; // incompressible: store as is, saves decoding time on restore
    payload = raw;
  }
  const head = Buffer.alloc(HEADER);
  MAGIC.copy(head, 0);
  head[4] = CODECS[used];
  head.writeUInt32LE(raw.length, 8);
  return Buffer.concat([head, payload]);
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

/** Decodes and verifies a block object: the recomputed id must equal `idHex`. */
export async function decodeBlock(key: string, idHex: string, bytes: Buffer, ids: BlockIdFunction): Promise<Buffer> {
  if (bytes.length < HEADER || !bytes.subarray(0, 4).equals(MAGIC)) throw blockCorrupt(key, 'bad header');
  const codec = codecName(bytes[4] ?? 255);
  if (codec === undefined) throw blockCorrupt(key, `unknown codec ${bytes[4]}`);
  const length = bytes.readUInt32LE(8);
  let raw: Buffer;
  try {
    raw = await decompress(codec, bytes.subarray(HEADER));
  } catch (err) {
    throw blockCorrupt(key, `cannot decompress (${codec}): ${(err as Error).message}`);
  }
  if (raw.length !== length) throw blockCorrupt(key, `length ${raw.length}, expected ${length}`);
  const actual = (await ids.digestAsync(raw)).toString('hex');
  if (actual !== idHex) throw blockCorrupt(key, `content hash ${actual.slice(0, 16)}… does not match its id`);
  return raw;
}
