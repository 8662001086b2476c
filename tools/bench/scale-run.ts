// One size of tools/bench/scale.ts: populate a counting store with a fleet's backups, then measure
// with the real library functions one delete, D deletes and the quick maintenance that merges
// them, and full maintenance (twice: the first marks what the deletes freed, the second, past the
// grace period of 0, deletes it).
import { deleteBackup, runMaintenance, type MaintenanceResult } from '@convoy/blockstore';
import { BlockPool } from './scale-blocks.js';
import { FleetPlan, rng, volumeName, type FleetSpec } from './scale-fleet.js';
import { populate, type PopulateResult } from './scale-populate.js';
import { CountingStore, type RequestStats } from './scale-store.js';

export const OPERATIONS = ['one delete', 'other deletes', 'quick maintenance', 'full maintenance', 'full maintenance again'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface RssStats {
  /** RSS when the operation started, the highest sampled during it, and at its end (bytes). */
  before: number;
  peak: number;
  after: number;
}

export interface OperationResult extends RequestStats {
  operation: Operation;
  seconds: number;
  rss: RssStats;
  /** What the library said it did (maintenance: merge and sweep stats). */
  detail?: Record<string, unknown>;
}

export interface SizeResult {
  scale: number;
  spec: FleetSpec;
  deletes: number;
  store: {
    volumes: number;
    backups: number;
    /** Block-map entries over all backups (each backup references its blocks once). */
    blockRefs: number;
    distinctBlocks: number;
    /** Objects other than blocks (manifests, block maps, index runs, …) and their bytes. */
    objects: number;
    /** Index runs per shard after populating: [min, max]. */
    runsPerShard: [number, number];
    populateSeconds: number;
    populate: PopulateResult;
    rssAfterPopulate: number;
  };
  operations: OperationResult[];
}

/** Samples process RSS every 20 ms and whenever the store has served 512 more requests. */
class RssSampler {
  #peak = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly sample = (): void => {
    const r = process.memoryUsage.rss();
    if (r > this.#peak) this.#peak = r;
  };

  start(): number {
    const before = process.memoryUsage.rss();
    this.#peak = before;
    this.#timer = setInterval(this.sample, 20);
    this.#timer.unref();
    return before;
  }

  stop(before: number): RssStats {
    clearInterval(this.#timer);
    this.sample();
    return { before, peak: this.#peak, after: process.memoryUsage.rss() };
  }
}

export interface RunSizeOptions {
  scale: number;
  spec: FleetSpec;
  /** Backups deleted before the quick maintenance (the one measured alone included). */
  deletes: number;
  /** Also run full maintenance (O(store)); default true. */
  full?: boolean;
  /** Days of backups merged by real quick maintenance while populating (scale-populate.ts; default 3). */
  recent?: number;
  log?: (line: string) => void;
}

export async function runSize(o: RunSizeOptions): Promise<SizeResult> {
  const log = o.log ?? (() => undefined);
  const plan = new FleetPlan(o.spec);
  const totalBackups = o.spec.volumes * o.spec.backups;
  if (o.deletes < 1 || o.deletes > totalBackups) throw new RangeError(`cannot delete ${o.deletes} of ${totalBackups} backups`);
  log(`size ${o.scale}: ${o.spec.volumes} volumes × ${o.spec.backups} backups × ~${o.spec.blocks} blocks; pool of ${plan.capacity} ids`);
  const store = new CountingStore(new BlockPool(plan.capacity));
  const sampler = new RssSampler();
  store.onRequests = sampler.sample;
  const t0 = performance.now();
  const pop = await populate(store, plan, { log, recent: o.recent });
  const populateSeconds = (performance.now() - t0) / 1000;
  gc();
  const index = await indexShape(store);
  log(
    `size ${o.scale}: populated in ${populateSeconds.toFixed(1)} s (${pop.maintenance.runs} quick maintenance runs, ${pop.seconds.maintenance.toFixed(1)} s); ${store.blocks.count} blocks, ${store.objectCount} other objects`,
  );

  const result: SizeResult = {
    scale: o.scale,
    spec: o.spec,
    deletes: o.deletes,
    store: {
      volumes: o.spec.volumes,
      backups: pop.backups,
      blockRefs: pop.blockRefs,
      distinctBlocks: store.blocks.count,
      objects: store.objectCount,
      runsPerShard: index,
      populateSeconds,
      populate: pop,
      rssAfterPopulate: process.memoryUsage.rss(),
    },
    operations: [],
  };
  const measure = async (operation: Operation, work: () => Promise<Record<string, unknown> | undefined>): Promise<void> => {
    gc();
    store.resetWindow();
    const before = sampler.start();
    const t = performance.now();
    const detail = await work();
    const seconds = (performance.now() - t) / 1000;
    const rss = sampler.stop(before);
    const r: OperationResult = { operation, ...store.window(), seconds, rss, detail };
    result.operations.push(r);
    log(`size ${o.scale}: ${operation}: ${seconds.toFixed(2)} s, ${JSON.stringify(r.requests)}`);
  };

  const victims = pickBackups(plan, o.deletes);
  const [first, ...others] = victims;
  await measure('one delete', async () => {
    const d = await deleteBackup({ store, ...(first as { volume: string; id: string }) });
    return { collectedBy: d.collectedBy };
  });
  if (others.length > 0) {
    await measure('other deletes', async () => {
      for (const v of others) await deleteBackup({ store, ...v });
      return { backups: others.length };
    });
  }
  await measure('quick maintenance', async () => summary(await runMaintenance({ store })));
  if (o.full !== false) {
    await measure('full maintenance', async () => summary(await runMaintenance({ store, full: true })));
    await measure('full maintenance again', async () => summary(await runMaintenance({ store, full: true })));
  }
  return result;
}

/** `deletes` distinct backups, spread over the fleet at random (deterministic). */
export function pickBackups(plan: FleetPlan, deletes: number): { volume: string; id: string }[] {
  const { volumes, backups } = plan.spec;
  const r = rng(plan.spec.seed * 31 + 17);
  const picked = new Set<number>();
  const out: { volume: string; id: string }[] = [];
  while (out.length < deletes) {
    const i = Math.floor(r() * volumes * backups);
    if (picked.has(i)) continue;
    picked.add(i);
    const v = Math.floor(i / backups);
    out.push({ volume: volumeName(v), id: plan.backupId(v, i % backups) });
  }
  return out;
}

/** What maintenance did; its problems as a count and the first three (one line per shard otherwise). */
function summary(m: MaintenanceResult): Record<string, unknown> {
  return { generation: m.generation, merge: m.merge, sweep: m.sweep, problemCount: m.problems.length, problems: m.problems.slice(0, 3) };
}

/** Runs per shard of the newest index generation: [fewest, most]. */
async function indexShape(store: CountingStore): Promise<[number, number]> {
  let newest: string | undefined;
  for await (const o of store.list('refs/index/')) if (newest === undefined || o.key > newest) newest = o.key;
  if (newest === undefined) return [0, 0];
  const gen: unknown = JSON.parse((await store.get(newest)).toString('utf8'));
  const g = gen as { shards?: unknown; shardDigits?: unknown };
  if (typeof g.shards !== 'object' || g.shards === null || typeof g.shardDigits !== 'number')
    throw new Error(`${newest} is not an index generation`);
  const counts = Object.values(g.shards).map((runs) => (Array.isArray(runs) ? runs.length : 0));
  const shards = 16 ** g.shardDigits;
  const min = counts.length < shards ? 0 : Math.min(...counts);
  return [min, Math.max(0, ...counts)];
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
