// Smoke test of tools/bench/scale.ts at a tiny size: the simulated store is what the library
// expects (verify passes, maintenance frees exactly what the deletes left unreferenced), and the
// costs the format v2 design promises hold: a delete costs the same requests whatever the store
// holds, and quick maintenance costs what the deletes bring, not what the store holds.
import { describe, expect, it } from 'vitest';
import { blockKey, verifyStore } from '@convoy/blockstore';
import { BlockPool, headOf, hexOfHead, indexOfHead } from './scale-blocks.js';
import { FULL_FLEET, FleetPlan, type FleetSpec } from './scale-fleet.js';
import { populate } from './scale-populate.js';
import { pickBackups, runSize, type OperationResult, type SizeResult } from './scale-run.js';
import { CountingStore, OPS } from './scale-store.js';

const spec = (volumes: number): FleetSpec => ({ ...FULL_FLEET, volumes, backups: 10, blocks: 100, volumesPerImage: 5 });
const DELETES = 20;
const poolBlockKey = (n: number): string => blockKey(hexOfHead(headOf(n)));

const op = (r: SizeResult, name: OperationResult['operation']): OperationResult => {
  const o = r.operations.find((x) => x.operation === name);
  if (o === undefined) throw new Error(`no ${name} in the result`);
  return o;
};
const total = (o: OperationResult): number => OPS.reduce((n, k) => n + o.requests[k], 0);

/** id (hex) → summed count over the newest index generation's runs (nonzero sums only). */
async function indexCounts(store: CountingStore): Promise<Map<string, number>> {
  let newest = '';
  for await (const o of store.list('refs/index/')) if (o.key > newest) newest = o.key;
  const gen = JSON.parse((await store.get(newest)).toString('utf8')) as { shards: Record<string, { key: string }[]> };
  const sums = new Map<string, number>();
  for (const runs of Object.values(gen.shards)) {
    for (const run of runs) {
      const file = await store.get(run.key);
      for (let o = 44; o < file.length; o += 36) {
        const hex = file.toString('hex', o, o + 32);
        sums.set(hex, (sums.get(hex) ?? 0) + file.readInt32LE(o + 32));
      }
    }
  }
  for (const [hex, n] of sums) if (n === 0) sums.delete(hex);
  return new Map([...sums].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('scale bench', () => {
  it('pool ids map back from their block keys, and list in key order', () => {
    for (const n of [0, 1, 2, 12_345, 2 ** 24 + 7]) expect(indexOfHead(headOf(n))).toBe(n);
    const pool = new BlockPool(5000);
    for (let n = 0; n < 5000; n += 3) pool.add(n, 0);
    expect(pool.indexOfKey(poolBlockKey(3))).toBe(3);
    expect(pool.indexOfKey(poolBlockKey(6000))).toBe(-1);
    const keys = [...pool.list('blocks/')].map((b) => b.key);
    expect(keys).toHaveLength(1667);
    expect(keys).toEqual([...keys].sort());
    const shard = [...pool.list('blocks/a')].map((b) => b.key);
    expect(shard).toEqual(keys.filter((k) => k.startsWith('blocks/a')));
  });

  it('indexes older backups directly exactly as quick maintenance indexes them', async () => {
    const plan = new FleetPlan(spec(6));
    const direct = new CountingStore(new BlockPool(plan.capacity));
    const merged = new CountingStore(new BlockPool(plan.capacity));
    await populate(direct, plan, { recent: 2 });
    await populate(merged, plan, { recent: plan.spec.backups, budgetRecords: 2000 }); // all through maintenance, several runs
    const counts = await indexCounts(direct);
    expect(counts.size).toBe(direct.blocks.count);
    expect(counts).toEqual(await indexCounts(merged));
    const check = await verifyStore({ store: direct });
    expect(check.problems).toEqual([]);
    expect(check.backupsChecked).toBe(60);
    expect(check.blocksChecked).toBe(direct.blocks.count);
  });

  it('maintenance frees exactly the blocks that only the deleted backups used', async () => {
    const plan = new FleetPlan(spec(6));

    const r = await runSize({ scale: 0, spec: spec(6), deletes: DELETES });
    expect(op(r, 'full maintenance again').detail).toMatchObject({ sweep: { blocksDeleted: expect.any(Number) as number } });
    // Blocks still referenced by the backups that were not deleted, computed from the plan:
    const deleted = new Set(pickBackups(plan, DELETES).map((b) => `${b.volume}/${b.id}`));
    const live = new Set<number>();
    for (let v = 0; v < 6; v++) {
      let b = 0;
      for (const slots of plan.backupsOf(v)) {
        if (!deleted.has(`vol-${String(v).padStart(5, '0')}/${plan.backupId(v, b++)}`)) slots.forEach((n) => live.add(n));
      }
    }
    const sweep = (op(r, 'full maintenance again').detail as { sweep: { blocksDeleted: number } }).sweep;
    expect(r.store.distinctBlocks - sweep.blocksDeleted).toBe(live.size);
  });

  it('one delete costs the same requests in a 10× larger store; quick maintenance grows with deletes, not with the store', async () => {
    const small = await runSize({ scale: 0.002, spec: spec(20), deletes: DELETES, full: false });
    const large = await runSize({ scale: 0.02, spec: spec(200), deletes: DELETES, full: false });
    expect(large.store.blockRefs).toBeGreaterThan(9 * small.store.blockRefs);

    const one = [op(small, 'one delete'), op(large, 'one delete')];
    expect(one[1]?.requests).toEqual(one[0]?.requests);
    expect(one[1]?.distinctRead).toBe(one[0]?.distinctRead);

    const quick = [op(small, 'quick maintenance'), op(large, 'quick maintenance')] as [OperationResult, OperationResult];
    expect(total(quick[1])).toBeLessThanOrEqual(2 * total(quick[0]));
    expect(quick[1].distinctRead).toBeLessThanOrEqual(2 * quick[0].distinctRead);
    // It reads the block map of every deleted backup: its cost follows the deletes.
    for (const q of quick) expect(q.requests.get).toBeGreaterThanOrEqual(DELETES);
    const fewer = await runSize({ scale: 0.02, spec: spec(200), deletes: DELETES / 4, full: false });
    expect(total(op(fewer, 'quick maintenance'))).toBeLessThan(total(quick[1]));
  });
});
