import { fetchBlock } from './block-reader.js';
import { systemClock } from './clock.js';
import { BlockstoreError } from './errors.js';
import { encodeBlock } from './format/block-object.js';
import { readHeader, type OpenedStore } from './format/header.js';
import { blockKey } from './format/layout.js';
import { readBlockMap } from './format/manifest.js';
import { validateVolumeName } from '@convoy/rules';
import { clearDamaged, listDamaged, markDamaged } from './gc/damaged.js';
import { IdSet } from './id-claims.js';
import { listManifests } from './list.js';
import { forEachIndex } from './pool.js';
import type { SnapshotSource } from './source.js';
import type { StoreCheckOptions } from './verify.js';

export interface RepairOptions extends StoreCheckOptions {
  /**
   * An image that may hold the content of the damaged blocks: the volume itself, a later
   * snapshot, a copy restored from elsewhere. Only read (concurrency bounds its reads too).
   */
  source: SnapshotSource;
}

export interface StillDamaged {
  /** volume/id */
  backup: string;
  /** Distinct blocks of the backup that are still missing or corrupt. */
  blocks: number;
  /** Set when the backup's manifest or block map cannot be read: no source repairs that. */
  error?: string;
}

export interface RepairResult {
  /** Distinct blocks checked. */
  blocksChecked: number;
  /** Whether block contents were read back and hashed (readData) or only their existence checked. */
  dataChecked: boolean;
  /** Ids (hex) of the blocks written again from the source, sorted. */
  repaired: string[];
  /** Backups that still need a missing or corrupt object, in volume/id order. */
  stillDamaged: StillDamaged[];
}

/** Where a backup had a damaged block: the source may hold the same content there. */
interface Place {
  offset: number;
  length: number;
}

/** Positions remembered per damaged id: enough to find a block that did not move, bounded. */
const MAX_PLACES = 16;

/**
 * Repairs a store from a source image (`convoy-backup repair`). For every backup (of `volume`, or
 * all): each block its block map references is checked — missing (stat), marked damaged by a
 * `verify --read-data`, or with `readData` read back and hashed. For each damaged block the source
 * is read where a backup had that block (index × blockSize, length); content not found there is
 * looked for in one pass over the whole source in blockSize pieces, for all such blocks at once.
 * Content whose hash matches is encoded with the store's compression and put over the
 * missing or corrupt object, and the block's damaged marker is cleared.
 *
 * Safe alongside backups, deletes and maintenance: a block is only written with the content its
 * id names, and only blocks committed backups reference are written (a sweep never deletes a
 * referenced block, nor one written again after it was marked). Memory: the distinct ids of the
 * checked backups (one IdSet) plus the damaged ones and a few positions each.
 */
export async function repairStore(options: RepairOptions): Promise<RepairResult> {
  const { store, source, signal } = options;
  if (options.volume !== undefined) validateVolumeName(options.volume);
  const clock = options.clock ?? systemClock;
  const concurrency = options.concurrency ?? 8;
  const readData = options.readData === true;
  const opened = await readHeader(store, signal);
  const v2 = opened.header.version === 2;
  const marked = v2 ? await listDamaged(store, signal) : new IdSet();
  const stillDamaged: StillDamaged[] = [];
  const manifests = await listManifests(store, options.volume, signal, (ref, err) =>
    stillDamaged.push({ backup: `${ref.volume}/${ref.id}`, blocks: 0, error: err.message }),
  );
  const entries = manifests.reduce((n, m) => n + m.blockMap.entries, 0);

  // 1. Find the damaged blocks, and where each backup had them.
  const checked = new IdSet();
  const damaged = new Map<string, { places: Place[]; corrupt: string | undefined }>();
  const verifiedGood: string[] = []; // marked damaged, but read back right with readData
  const needs = new Map<string, Set<string>>(); // backup -> its damaged ids
  let blocksDone = 0;
  for (const m of manifests) {
    const name = `${m.volume}/${m.id}`;
    let map;
    try {
      map = await readBlockMap(store, m, signal);
    } catch (err) {
      if (!(err instanceof BlockstoreError)) throw err;
      stillDamaged.push({ backup: name, blocks: 0, error: err.message });
      continue;
    }
    const fresh: string[] = [];
    for (const hex of map.ids()) if (checked.add(hex)) fresh.push(hex);
    await forEachIndex(
      fresh.length,
      concurrency,
      async (i) => {
        const hex = fresh[i] as string;
        const state = await checkBlock(opened, hex, readData, marked.has(hex), signal);
        if (state === 'good' && marked.has(hex)) verifiedGood.push(hex);
        if (state !== 'good') damaged.set(hex, { places: [], corrupt: state === 'missing' ? undefined : state.corrupt });
        blocksDone++;
        options.onProgress?.({ phase: 'repair', bytesDone: 0, bytesTotal: 0, blocksDone, blocksTotal: entries, bytesTransferred: 0 });
      },
      signal,
    );
    const need = new Set<string>();
    for (const e of map.entries()) {
      const hex = e.id.toString('hex');
      const d = damaged.get(hex);
      if (d === undefined) continue;
      need.add(hex);
      const offset = e.index * m.blockSize;
      if (d.places.length < MAX_PLACES && !d.places.some((p) => p.offset === offset && p.length === e.length))
        d.places.push({ offset, length: e.length });
    }
    if (need.size > 0) needs.set(name, need);
  }

  // 2. Look for their content in the source: where the backups had it, then anywhere.
  const repaired = new Set<string>();
  let bytesWritten = 0;
  const report = (bytesDone: number, bytesTotal: number): void =>
    options.onProgress?.({
      phase: 'repair',
      bytesDone,
      bytesTotal,
      blocksDone: repaired.size,
      blocksTotal: damaged.size,
      bytesTransferred: bytesWritten,
    });
  const put = async (hex: string, data: Buffer): Promise<void> => {
    const obj = await encodeBlock(opened.header.compression, data);
    await store.put(blockKey(hex), obj, { signal });
    bytesWritten += obj.length;
  };
  const wanted = [...damaged.keys()].sort();
  await forEachIndex(
    wanted.length,
    concurrency,
    async (i) => {
      const hex = wanted[i] as string;
      const want = Buffer.from(hex, 'hex');
      for (const p of damaged.get(hex)?.places ?? []) {
        if (p.offset + p.length > source.size) continue;
        const data = await source.read(p.offset, p.length, signal);
        if (!opened.ids.digest(data).equals(want)) continue;
        await put(hex, data);
        repaired.add(hex);
        break;
      }
      report(0, 0);
    },
    signal,
  );
  const remaining = new Set(wanted.filter((hex) => !repaired.has(hex)));
  if (remaining.size > 0 && source.size > 0) {
    const bs = opened.header.blockSize;
    const pieces = Math.ceil(source.size / bs);
    let scanned = 0;
    await forEachIndex(
      pieces,
      concurrency,
      async (i) => {
        if (remaining.size === 0) return;
        const offset = i * bs;
        const length = Math.min(bs, source.size - offset);
        const data = await source.read(offset, length, signal);
        const hex = opened.ids.digest(data).toString('hex');
        if (remaining.delete(hex)) {
          await put(hex, data);
          repaired.add(hex);
        }
        scanned += length;
        report(scanned, source.size);
      },
      signal,
    );
  }

  // 3. Markers: cleared for what is good now; set for corrupt blocks the source could not repair.
  if (v2) {
    await clearDamaged(
      store,
      [...repaired, ...verifiedGood].filter((hex) => marked.has(hex)),
    );
    for (const [hex, d] of damaged) {
      if (!repaired.has(hex) && d.corrupt !== undefined && !marked.has(hex)) await markDamaged(store, hex, d.corrupt, clock.now());
    }
  }
  for (const [backup, need] of needs) {
    const left = [...need].filter((hex) => !repaired.has(hex)).length;
    if (left > 0) stillDamaged.push({ backup, blocks: left });
  }
  stillDamaged.sort((a, b) => a.backup.localeCompare(b.backup));
  return { blocksChecked: checked.size, dataChecked: readData, repaired: [...repaired].sort(), stillDamaged };
}

type BlockState = 'good' | 'missing' | { corrupt: string };

/** Missing (stat), corrupt (marked damaged, or with readData read back wrong twice), or good. */
async function checkBlock(
  opened: OpenedStore,
  hex: string,
  readData: boolean,
  markedDamaged: boolean,
  signal: AbortSignal | undefined,
): Promise<BlockState> {
  if (!readData) {
    if ((await opened.store.stat(blockKey(hex), { signal })) === undefined) return 'missing';
    return markedDamaged ? { corrupt: `block ${blockKey(hex)} was marked damaged by verify --read-data` } : 'good';
  }
  const read = (): Promise<unknown> => fetchBlock(opened, hex, signal);
  try {
    await read().catch(async (err: unknown) => {
      if ((err as { code?: string }).code !== 'CONVOY_BLOCK_CORRUPT') throw err;
      await read(); // a flipped bit on the wire reads right the second time
    });
    return 'good';
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'CONVOY_BLOCK_MISSING') return 'missing';
    if (code === 'CONVOY_BLOCK_CORRUPT') return { corrupt: (err as Error).message };
    throw err; // the store failed: not a verdict on the block
  }
}
