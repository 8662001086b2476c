// Source images generated from a seed: 2 MiB regions (the backup block size) that are random
// bytes, log-like text (compressible, unique per seed) or zeros, with a shorter last region. A
// state is a list of region specs, so the bytes, the sha256 of the image and the block id of each
// region are known without reading anything back; a mutation replaces some regions.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { Rng } from './prng.js';

export const MiB = 1024 * 1024;
export const REGION = 2 * MiB;

export type RegionKind = 'random' | 'text' | 'zero';

export interface Region {
  kind: RegionKind;
  seed: number;
}

export interface ImageState {
  /** Bytes; the last region is `size - (regions - 1) * REGION` long. */
  size: number;
  regions: Region[];
  /** sha256 of the whole image (hex). */
  sha256: string;
  /** Per region: the block id (sha256 of its bytes), or null for a zero region (never stored). */
  blockIds: (string | null)[];
}

export interface Mutation {
  state: ImageState;
  /** Indices of the regions that changed. */
  changed: number[];
  /** Extents `[offset, length]` inside the changed regions, as a change list would report them. */
  extents: [number, number][];
}

const KINDS: readonly RegionKind[] = ['random', 'random', 'text', 'text', 'zero'];

const regionLength = (size: number, i: number): number => Math.min(REGION, size - i * REGION);

/** The bytes of one region. */
export function regionBytes(region: Region, length: number): Buffer {
  const buf = Buffer.alloc(length);
  if (region.kind === 'zero') return buf;
  const rng = new Rng(region.seed);
  if (region.kind === 'random') return rng.fill(buf);
  // Log-like text: running counters and a few random words, so no two regions are alike.
  const words = ['backup', 'restore', 'volume', 'snapshot', 'lease', 'sweep', 'marker', 'block'];
  let at = 0;
  for (let line = 0; at < length; line++) {
    const text = `${String(region.seed).padStart(10, '0')} ${String(line).padStart(8, '0')} host-${rng.int(0, 99)} ${rng.pick(words)} ${rng.pick(words)} ok=${rng.int(0, 1)} bytes=${rng.int(0, 1 << 30)}\n`;
    at += buf.write(text, at, 'latin1');
  }
  return buf;
}

/** A new image of `regions` regions (the last one up to 1 MiB shorter); at least one region holds data. */
export function newImage(rng: Rng, regions: number): ImageState {
  const trim = rng.chance(0.5) ? 0 : rng.int(1, 2048) * 512;
  const size = regions * REGION - trim;
  const specs = Array.from({ length: regions }, (): Region => ({ kind: rng.pick(KINDS), seed: rng.int(1, 2 ** 31) }));
  if (specs.every((r) => r.kind === 'zero')) (specs[0] as Region).kind = 'random';
  return describe(size, specs);
}

/** Replaces about `share` of the regions (at least one) with new content; zero regions may appear or go. */
export function mutate(rng: Rng, state: ImageState, share: number): Mutation {
  const n = state.regions.length;
  const count = Math.max(1, Math.round(n * share));
  const changed = rng
    .shuffle(Array.from({ length: n }, (_, i) => i))
    .slice(0, count)
    .sort((a, b) => a - b);
  const regions = state.regions.map((r) => ({ ...r }));
  for (const i of changed) regions[i] = { kind: rng.pick(KINDS), seed: rng.int(1, 2 ** 31) };
  const extents: [number, number][] = changed.map((i) => {
    const length = regionLength(state.size, i);
    const from = rng.int(0, Math.max(0, length - 4096)) & ~511;
    return [i * REGION + from, Math.min(length - from, rng.int(1, 64) * 4096)];
  });
  return { state: describe(state.size, regions), changed, extents };
}

/**
 * A state of `base`'s size whose regions come from `sources` (each region from one picked at
 * random; regions past a source's end from `base`), then `fresh` of them replaced: content that
 * shares blocks with several backups, for races between deduplication and sweeps.
 */
export function blend(rng: Rng, base: ImageState, sources: readonly ImageState[], fresh: number): ImageState {
  const regions = base.regions.map((r, i) => ({ ...(rng.pick(sources).regions[i] ?? r) }));
  const mixed = describe(base.size, regions);
  return fresh > 0 ? mutate(rng, mixed, fresh).state : mixed;
}

function describe(size: number, regions: Region[]): ImageState {
  const whole = createHash('sha256');
  const blockIds = regions.map((r, i) => {
    const bytes = regionBytes(r, regionLength(size, i));
    whole.update(bytes);
    return r.kind === 'zero' ? null : createHash('sha256').update(bytes).digest('hex');
  });
  return { size, regions, sha256: whole.digest('hex'), blockIds };
}

/** Writes the image to `file` (replacing it) and checks the bytes hash to the state's sha256. */
export async function writeImage(file: string, state: ImageState): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    for (let i = 0; i < state.regions.length; i++) {
      const r = state.regions[i] as Region;
      const length = regionLength(state.size, i);
      if (r.kind !== 'zero') await fh.write(regionBytes(r, length), 0, length, i * REGION);
    }
    await fh.truncate(state.size);
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}

/** sha256 of a file (hex), streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await fs.open(file, 'r');
  try {
    for await (const chunk of fh.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await fh.close().catch(() => undefined);
  }
  return hash.digest('hex');
}

/** The store key of a block (docs/format.md). */
export const blockKey = (id: string): string => `blocks/${id.slice(0, 2)}/${id.slice(2, 4)}/${id}.blk`;
