// The pack map of a directory backup: where each small chunk it references lies inside a pack
// (docs/format.md, "Packs"). A pack is an ordinary content-addressed block whose bytes are the
// concatenated block objects of its chunks; the map is a block too, named by the manifest.
import { ConvoyError } from '@convoy/errors';

export interface PackLocation {
  /** The pack's block id (hex). */
  pack: string;
  /** The chunk's block object: its offset and length in the pack's bytes. */
  offset: number;
  length: number;
}

export interface PackInfo {
  id: string;
  /** The pack's bytes (the sum of its chunk objects, used or not). */
  bytes: number;
}

const MAGIC = Buffer.from('CVPM');
const HEAD = 16;
const PACK = 36;
const ENTRY = 44;

function corrupt(where: string, what: string): ConvoyError {
  return new ConvoyError('CONVOY_FILEINDEX_CORRUPT', `pack map ${where} is corrupt: ${what}`, {
    hint: 'the backup cannot be restored from this map; run verify, and restore from another backup',
    details: { key: where },
  });
}

/** The chunks of a backup that lie in packs: chunk id (hex) → location; the packs with their sizes. */
export class PackMap {
  readonly packs = new Map<string, number>();
  readonly #chunks = new Map<string, PackLocation>();

  get size(): number {
    return this.#chunks.size;
  }

  get(chunk: string): PackLocation | undefined {
    return this.#chunks.get(chunk);
  }

  set(chunk: string, loc: PackLocation, packBytes: number): void {
    this.#chunks.set(chunk, loc);
    this.packs.set(loc.pack, packBytes);
  }

  delete(chunk: string): void {
    this.#chunks.delete(chunk);
  }

  entries(): IterableIterator<[string, PackLocation]> {
    return this.#chunks.entries();
  }

  /**
   * Binary: "CVPM", version 1, 3 reserved, uint32 LE pack count P, uint32 LE entry count N; P ×
   * (32-byte pack id, uint32 LE pack bytes); N × (32-byte chunk id, uint32 LE pack index, uint32 LE
   * offset, uint32 LE length), sorted by chunk id. Only packs some entry uses are listed.
   */
  encode(): Buffer {
    const used = [...new Set([...this.#chunks.values()].map((l) => l.pack))].sort();
    const index = new Map(used.map((p, i) => [p, i]));
    const chunks = [...this.#chunks.keys()].sort();
    const out = Buffer.alloc(HEAD + used.length * PACK + chunks.length * ENTRY);
    MAGIC.copy(out, 0);
    out[4] = 1;
    out.writeUInt32LE(used.length, 8);
    out.writeUInt32LE(chunks.length, 12);
    used.forEach((p, i) => {
      out.write(p, HEAD + i * PACK, 'hex');
      out.writeUInt32LE(this.packs.get(p) ?? 0, HEAD + i * PACK + 32);
    });
    let o = HEAD + used.length * PACK;
    for (const c of chunks) {
      const l = this.#chunks.get(c)!;
      out.write(c, o, 'hex');
      out.writeUInt32LE(index.get(l.pack)!, o + 32);
      out.writeUInt32LE(l.offset, o + 36);
      out.writeUInt32LE(l.length, o + 40);
      o += ENTRY;
    }
    return out;
  }

  /** Parses and checks a map (order, bounds: every location lies inside its pack). */
  static decode(bytes: Buffer, where: string): PackMap {
    if (bytes.length < HEAD || !bytes.subarray(0, 4).equals(MAGIC)) throw corrupt(where, 'bad header');
    if (bytes[4] !== 1) throw corrupt(where, `version ${bytes[4]} is not supported`);
    const p = bytes.readUInt32LE(8);
    const n = bytes.readUInt32LE(12);
    if (bytes.length !== HEAD + p * PACK + n * ENTRY) throw corrupt(where, 'its length does not match its counts');
    const packs: PackInfo[] = [];
    for (let i = 0; i < p; i++)
      packs.push({ id: bytes.toString('hex', HEAD + i * PACK, HEAD + i * PACK + 32), bytes: bytes.readUInt32LE(HEAD + i * PACK + 32) });
    const map = new PackMap();
    let prev = '';
    for (let i = 0, o = HEAD + p * PACK; i < n; i++, o += ENTRY) {
      const chunk = bytes.toString('hex', o, o + 32);
      if (chunk <= prev) throw corrupt(where, 'chunk ids are not increasing');
      prev = chunk;
      const pack = packs[bytes.readUInt32LE(o + 32)];
      const offset = bytes.readUInt32LE(o + 36);
      const length = bytes.readUInt32LE(o + 40);
      if (pack === undefined || offset + length > pack.bytes || length < 12) throw corrupt(where, `chunk ${chunk} lies outside its pack`);
      map.set(chunk, { pack: pack.id, offset, length }, pack.bytes);
    }
    return map;
  }
}
