import type { Extent } from '@convoy/blockstore';
import { DevmapperError } from './errors.js';

export type DeltaKind = 'same' | 'different' | 'left_only' | 'right_only';

/** A run of pool data blocks (thin_delta counts in pool blocks, not bytes). */
export interface DeltaRange {
  kind: DeltaKind;
  begin: number;
  length: number;
}

export interface ThinDelta {
  /** The pool's data block size in 512-byte sectors (the superblock's data_block_size). */
  blockSectors: number;
  left: number;
  right: number;
  ranges: DeltaRange[];
}

const KINDS = new Set<string>(['same', 'different', 'left_only', 'right_only']);

const bad = (why: string): DevmapperError =>
  new DevmapperError('CONVOY_THIN_DELTA_INVALID', `cannot read thin_delta output: ${why}`, {
    hint: 'thin-provisioning-tools 0.9 or later is expected (`thin_delta --version`)',
  });

function attrs(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/([a-z_]+)="([^"]*)"/g)) out.set(m[1] as string, m[2] as string);
  return out;
}

function int(a: Map<string, string>, name: string, tag: string): number {
  const v = Number(a.get(name));
  if (!Number.isSafeInteger(v) || v < 0) throw bad(`<${tag}> has no valid ${name}`);
  return v;
}

/**
 * Parses `thin_delta` XML (thin-provisioning-tools 0.9, non-verbose and --verbose forms):
 *
 *   <superblock uuid="" time="2" transaction="0" data_block_size="4096" nr_data_blocks="0">
 *     <diff left="2" right="3">
 *       <same begin="0" length="3"/>
 *       <right_only begin="3" length="1"/>
 *     </diff>
 *   </superblock>
 */
export function parseThinDelta(xml: string): ThinDelta {
  let blockSectors: number | undefined;
  let left: number | undefined;
  let right: number | undefined;
  let section: DeltaKind | undefined; // inside <same>…</same> in --verbose output
  const ranges: DeltaRange[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-z_]+)([^>]*?)(\/?)>/g)) {
    const [, close, name = '', rest = '', selfClose] = m;
    if (close === '/') {
      if (name === section) section = undefined;
      continue;
    }
    const a = attrs(rest);
    if (name === 'superblock') blockSectors = int(a, 'data_block_size', name);
    else if (name === 'diff') {
      left = int(a, 'left', name);
      right = int(a, 'right', name);
    } else if (KINDS.has(name)) {
      if (selfClose === '/') ranges.push({ kind: name as DeltaKind, begin: int(a, 'begin', name), length: int(a, 'length', name) });
      else section = name as DeltaKind;
    } else if (name === 'range' && section !== undefined) {
      ranges.push({ kind: section, begin: int(a, 'begin', name), length: int(a, 'length', name) });
    } else {
      throw bad(`unexpected element <${name}>`);
    }
  }
  if (blockSectors === undefined || blockSectors === 0) throw bad('no <superblock data_block_size>');
  if (left === undefined || right === undefined) throw bad('no <diff left right>');
  return { blockSectors, left, right, ranges };
}

/**
 * The byte extents that differ between the two thin devices: `different` and `right_only` (new
 * data) and `left_only` (now unmapped: reads as zeros). Extents are widened to whole backup
 * blocks, clipped to the volume size, sorted and merged, so blockstore reads each changed backup
 * block exactly once.
 */
export function changedExtents(delta: ThinDelta, volumeSize: number, backupBlockSize: number): Extent[] {
  return extentsOf(
    delta.ranges.filter((r) => r.kind !== 'same'),
    delta.blockSectors,
    volumeSize,
    backupBlockSize,
  );
}

/**
 * The byte extents a thin device maps, from `thin_delta --snap1 X --snap2 X` (the device against
 * itself: every mapped range, as `same`), widened to whole backup blocks like changedExtents.
 * Everything outside them reads as zeros.
 */
export function mappedExtents(delta: ThinDelta, volumeSize: number, backupBlockSize: number): Extent[] {
  return extentsOf(delta.ranges, delta.blockSectors, volumeSize, backupBlockSize);
}

/** Pool blocks a delta's ranges cover (of a device against itself: the blocks it maps). */
export function rangeBlocks(delta: ThinDelta): number {
  return delta.ranges.reduce((n, r) => n + r.length, 0);
}

function extentsOf(ranges: readonly DeltaRange[], blockSectors: number, volumeSize: number, backupBlockSize: number): Extent[] {
  const poolBlock = blockSectors * 512;
  const raw: Extent[] = [];
  for (const r of ranges) {
    if (r.length === 0) continue;
    const start = Math.floor((r.begin * poolBlock) / backupBlockSize) * backupBlockSize;
    const end = Math.min(volumeSize, Math.ceil(((r.begin + r.length) * poolBlock) / backupBlockSize) * backupBlockSize);
    if (end > start) raw.push({ offset: start, length: end - start });
  }
  raw.sort((a, b) => a.offset - b.offset);
  const out: Extent[] = [];
  for (const e of raw) {
    const last = out.at(-1);
    if (last !== undefined && e.offset <= last.offset + last.length) {
      last.length = Math.max(last.length, e.offset + e.length - last.offset);
    } else {
      out.push({ ...e });
    }
  }
  return out;
}

/** How many backup blocks a changed-extent list touches. */
export function blocksTouched(extents: readonly Extent[], backupBlockSize: number): number {
  let n = 0;
  let lastEnd = -1;
  for (const e of extents) {
    const first = Math.max(Math.floor(e.offset / backupBlockSize), lastEnd + 1);
    const last = Math.floor((e.offset + e.length - 1) / backupBlockSize);
    if (last >= first) n += last - first + 1;
    lastEnd = Math.max(lastEnd, last);
  }
  return n;
}
