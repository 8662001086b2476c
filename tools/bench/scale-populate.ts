// Writes a simulated fleet's backups into a CountingStore as backupVolume's format v2 commit
// leaves them (block objects, block map, add marker, manifest, volume record), without reading,
// hashing or compressing any volume data, and brings the reference index to a steady state.
//
// The index: the backups older than `recent` days are counted directly into one run per shard,
// as the last full maintenance would have left them (the library's maintenance costs ~5 µs of CPU
// per reference, so building 150 M references through it takes longer than the whole bench may);
// the last `recent` days' backups are committed with add markers and merged by the real quick
// maintenance, once a day and whenever their markers hold `budgetRecords` ids.
import { createHash, randomBytes } from 'node:crypto';
import {
  BlockMap,
  DEFAULT_BLOCK_SIZE,
  addMarkerKey,
  blockMapKey,
  manifestKey,
  openOrInitStore,
  runMaintenance,
  volumeKey,
  type Manifest,
  type VolumeRecord,
} from '@convoy/blockstore';
import { headOf, indexOfHead, writeId } from './scale-blocks.js';
import { DAY, type FleetPlan, volumeName } from './scale-fleet.js';
import type { CountingStore } from './scale-store.js';

const BS = DEFAULT_BLOCK_SIZE;

export interface PopulateOptions {
  /** Days of backups (per volume) merged by real quick maintenance; the older ones are indexed directly (default 3). */
  recent?: number;
  /** Pending add-marker ids that trigger a quick maintenance (default 1 M, maintenance's own budget). */
  budgetRecords?: number;
  log?: (line: string) => void;
}

export interface PopulateResult {
  backups: number;
  blockRefs: number;
  /** Index records written directly for the older backups. */
  seededRecords: number;
  /** The real quick maintenance runs that merged the recent backups. */
  maintenance: { runs: number; recordsWritten: number; recordsMerged: number };
  seconds: { write: number; seed: number; maintenance: number };
}

interface Item {
  v: number;
  b: number;
  slots: Uint32Array;
}

export async function populate(store: CountingStore, plan: FleetPlan, options: PopulateOptions = {}): Promise<PopulateResult> {
  const { spec } = plan;
  const log = options.log ?? (() => undefined);
  if (spec.backups > 0xffff) throw new RangeError('at most 65535 backups per volume');
  const recent = Math.min(spec.backups, options.recent ?? 3);
  const older = spec.backups - recent;
  const budget = options.budgetRecords ?? 1_000_000;
  const opened = await openOrInitStore(store, { compression: 'zstd', now: new Date(plan.start - DAY), gc: { graceMs: 0 } });
  const r: PopulateResult = {
    backups: 0,
    blockRefs: 0,
    seededRecords: 0,
    maintenance: { runs: 0, recordsWritten: 0, recordsMerged: 0 },
    seconds: { write: 0, seed: 0, maintenance: 0 },
  };
  const timed = async <T>(part: keyof PopulateResult['seconds'], work: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await work();
    } finally {
      r.seconds[part] += (performance.now() - t) / 1000;
    }
  };
  const write = async (items: Item[], markers: boolean): Promise<void> => {
    await timed('write', () => writeBackups(store, plan, items, markers));
    r.backups += items.length;
    for (const it of items) r.blockRefs += it.slots.length;
  };
  let lastLog = performance.now();
  const progress = (what: string): void => {
    if (performance.now() - lastLog < 10_000) return;
    lastLog = performance.now();
    log(`${what} (${r.backups} of ${spec.volumes * spec.backups} backups written)`);
  };

  // Older backups, volume by volume; their references are counted here.
  const counts = new Uint16Array(plan.capacity);
  const held: Uint32Array[][] = [];
  for (let v = 0; v < spec.volumes; v++) {
    const items: Item[] = [];
    const kept: Uint32Array[] = [];
    let b = 0;
    for (const slots of plan.backupsOf(v)) {
      if (b < older) {
        for (const n of slots) counts[n] = (counts[n] as number) + 1;
        items.push({ v, b, slots });
      } else kept.push(slots);
      b++;
    }
    held.push(kept);
    await write(items, false);
    progress(`older backups of ${v + 1} volumes`);
  }
  if (older > 0)
    r.seededRecords = await timed('seed', () => seedIndex(store, counts, opened.header.gc?.shardDigits ?? 2, plan.created(0, older)));

  // The recent days: every volume's backup of the day, with markers; quick maintenance merges them.
  let pending = 0;
  const maintain = async (): Promise<void> => {
    const m = await timed('maintenance', () => runMaintenance({ store, budgetRecords: budget }));
    r.maintenance.runs++;
    r.maintenance.recordsWritten += m.merge.recordsWritten;
    r.maintenance.recordsMerged += m.merge.recordsMerged;
    pending = 0;
  };
  for (let d = 0; d < recent; d++) {
    for (let v0 = 0; v0 < spec.volumes; v0 += 32) {
      const items: Item[] = [];
      for (let v = v0; v < Math.min(spec.volumes, v0 + 32); v++) items.push({ v, b: older + d, slots: held[v]?.[d] as Uint32Array });
      await write(items, true);
      for (const it of items) pending += it.slots.length;
      if (pending >= budget) await maintain();
      progress(`day ${d + 1} of ${recent} recent, ${r.maintenance.runs} quick maintenance runs`);
    }
    if (pending > 0) await maintain();
  }
  return r;
}

/** Backups (with their blocks, and the volume record after a volume's last one) as a v2 commit leaves them. */
async function writeBackups(store: CountingStore, plan: FleetPlan, items: readonly Item[], markers: boolean): Promise<void> {
  const id = Buffer.alloc(32);
  const built = items.map(({ v, b, slots }) => {
    const created = plan.created(v, b);
    const builder = BlockMap.builder();
    const heads = new Uint32Array(slots.length);
    for (let j = 0; j < slots.length; j++) {
      const n = slots[j] as number;
      const head = headOf(n);
      heads[j] = head;
      writeId(head, id);
      builder.add(j, BS, id);
      if (!store.blocks.has(n)) store.blocks.add(n, created);
    }
    return { map: builder.build(), heads };
  });
  const encoded = await Promise.all(built.map((x) => x.map.encode()));
  items.forEach(({ v, b }, i) => {
    const { map, heads } = built[i] as { map: BlockMap; heads: Uint32Array };
    const bytes = encoded[i] as Buffer;
    const volume = volumeName(v);
    const backup = plan.backupId(v, b);
    const created = plan.created(v, b);
    const k = map.count;
    store.seed(blockMapKey(volume, backup), bytes, created);
    if (markers) store.seed(addMarkerKey(volume, backup), refFile(1, idListBody(heads)), created);
    const manifest: Manifest = {
      format: 'convoy-backup-manifest',
      version: 1,
      id: backup,
      volume,
      created: new Date(created).toISOString(),
      snapshot: `snap-${b}`,
      size: k * BS,
      blockSize: BS,
      compression: 'zstd',
      blockId: 'sha256',
      parent: b === 0 ? null : plan.backupId(v, b - 1),
      labels: {},
      blockMap: { key: blockMapKey(volume, backup), entries: k, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: k * BS },
      stats: { blocksTotal: k, blocksNonZero: k, blocksRead: k, blocksUploaded: 0, bytesRead: k * BS, bytesUploaded: 0, durationMs: 1000 },
    };
    store.seed(manifestKey(volume, backup), Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`), created + 1000);
    if (b === plan.spec.backups - 1) {
      const record: VolumeRecord = {
        name: volume,
        size: k * BS,
        created: new Date(plan.created(v, 0)).toISOString(),
        updated: new Date(created + 1000).toISOString(),
        lastBackup: { id: backup, created: manifest.created, snapshot: manifest.snapshot },
      };
      store.seed(volumeKey(volume), Buffer.from(`${JSON.stringify(record, null, 1)}\n`), created + 1000);
    }
  });
}

/**
 * Generation 1 of the reference index, as a full maintenance leaves it: one count run per shard
 * holding every id whose count is not 0 (docs/format.md, "Reference index"; the library's writers
 * are not exported). Returns the records written.
 */
async function seedIndex(store: CountingStore, counts: Uint16Array, digits: number, at: number): Promise<number> {
  const heads = store.blocks.sortedHeads;
  const shift = 32 - 4 * digits;
  const gen = 1;
  const shards: Record<string, { key: string; records: number; bytes: number }[]> = {};
  let total = 0;
  for (let i = 0; i < heads.length;) {
    const shard = (heads[i] as number) >>> shift;
    let end = i;
    let records = 0;
    for (; end < heads.length && (heads[end] as number) >>> shift === shard; end++)
      if ((counts[indexOfHead(heads[end] as number)] as number) > 0) records++;
    if (records > 0) {
      const body = Buffer.alloc(records * 36);
      let o = 0;
      for (let j = i; j < end; j++) {
        const head = heads[j] as number;
        const c = counts[indexOfHead(head)] as number;
        if (c === 0) continue;
        writeId(head, body, o);
        body.writeInt32LE(c, o + 32);
        o += 36;
      }
      const name = shard.toString(16).padStart(digits, '0');
      const key = `refs/runs/${name}/${String(gen).padStart(12, '0')}-${randomBytes(4).toString('hex')}.run`;
      const file = refFile(2, body);
      store.seed(key, file, at);
      shards[name] = [{ key, records, bytes: file.length }];
      total += records;
    }
    i = end;
  }
  const generation = {
    format: 'convoy-ref-index',
    version: 1,
    gen,
    created: new Date(at).toISOString(),
    shardDigits: digits,
    shards,
    consumed: [],
  };
  store.seed(`refs/index/${String(gen).padStart(12, '0')}.json`, Buffer.from(`${JSON.stringify(generation)}\n`), at);
  return total;
}

/** The sorted, distinct 32-byte ids of these heads (ids sort by their first 4 bytes, which are distinct). */
export function idListBody(heads: Uint32Array): Buffer {
  const sorted = Uint32Array.from(heads).sort();
  const out = Buffer.alloc(sorted.length * 32);
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i] === sorted[i - 1]) continue;
    writeId(sorted[i] as number, out, n++ * 32);
  }
  return out.subarray(0, n * 32);
}

/**
 * A reference file (docs/format.md, "Reference files"; packages/blockstore/src/format/ref-file.ts
 * is not exported): "CVRF", version 1, kind (1 id list, 2 count run), 2 reserved bytes, the record
 * count (uint32 LE), the sha256 of the body; then the body.
 */
export function refFile(kind: 1 | 2, body: Buffer): Buffer {
  const head = Buffer.alloc(44);
  head.write('CVRF', 0, 'latin1');
  head[4] = 1;
  head[5] = kind;
  head.writeUInt32LE(body.length / (kind === 1 ? 32 : 36), 8);
  createHash('sha256').update(body).digest().copy(head, 12);
  return Buffer.concat([head, body]);
}
