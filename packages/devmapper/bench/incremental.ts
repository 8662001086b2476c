// Incremental backup of a 1 GiB thin volume with 1 % and 10 % of its blocks changed: the
// changed-block list from thin_delta against a full read-and-hash backup (every block read and
// hashed, only new blocks uploaded), each into its own vfs store holding the same parent.
//
// Runs inside the dm guest (tools/dmvm-bench.sh builds the packages and boots it); prints a table
// and one JSON line. Everything lives on the guest's tmpfs, so "reading" is memory bandwidth
// through dm-thin and loop, and the times are TCG times: compare the columns, not the absolutes.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { backupVolume } from '@convoy/blockstore';
// eslint-disable-next-line @nx/enforce-module-boundaries -- Node runs this file by type stripping, against the built package (src's .js specifiers only resolve after a build)
import { DevmapperDriver } from '@convoy/devmapper';
import { openStore } from '@convoy/objectstore';

const MiB = 1024 * 1024;
const BLOCK = 2 * MiB;
const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB;
const BLOCKS = SIZE / BLOCK;
const dir = process.env.BENCH_DIR ?? '/tmp/convoy-bench';

/** A block of half random, half compressible bytes, unique per (block, generation). */
function blockData(i: number, gen: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  randomBytes(BLOCK / 2).copy(b, 0);
  b.write(`block ${i} generation ${gen} `.repeat(BLOCK / 2 / 32), BLOCK / 2, BLOCK / 2, 'latin1');
  return b;
}

async function writeBlocks(dev: string, blocks: number[], gen: number): Promise<void> {
  const fh = await fs.open(dev, 'r+');
  try {
    for (const i of blocks) await fh.write(blockData(i, gen), 0, BLOCK, i * BLOCK);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function dropCaches(): void {
  execFileSync('sh', ['-c', 'sync; echo 3 > /proc/sys/vm/drop_caches']);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  dropCaches();
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

/** Distinct random block indices, `n` of them. */
function pick(n: number): number[] {
  const s = new Set<number>();
  while (s.size < n) s.add(Math.floor(Math.random() * BLOCKS));
  return [...s].sort((a, b) => a - b);
}

async function main(): Promise<void> {
  execFileSync('sh', ['-c', 'dmsetup remove_all --force; losetup -D']);
  await fs.rm(dir, { recursive: true, force: true });
  const d = await DevmapperDriver.start({
    root: `${dir}/root`,
    thinPoolName: 'bench-pool',
    loopDataSize: SIZE * 2,
    loopMetadataSize: 64 * MiB,
  });
  const storeInc = await openStore(`vfs://${dir}/store-incremental`);
  const storeFull = await openStore(`vfs://${dir}/store-full`);
  await d.create({ name: 'vol', size: SIZE });
  const dev = await d.activate('vol');
  const fill = await timed(() =>
    writeBlocks(
      dev,
      Array.from({ length: BLOCKS }, (_, i) => i),
      0,
    ),
  );
  await d.snapshotCreate('vol', 's0');
  const first = await timed(() => d.backup({ volume: 'vol', snapshot: 's0', store: storeInc }));
  const firstFull = await timed(() => d.backup({ volume: 'vol', snapshot: 's0', store: storeFull }));
  const rows: Record<string, number | string>[] = [];
  let gen = 1;
  for (const pct of [1, 10]) {
    const changed = pick(Math.max(1, Math.round((BLOCKS * pct) / 100)));
    await writeBlocks(dev, changed, gen++);
    const snap = `s${pct}`;
    await d.snapshotCreate('vol', snap);
    // the change list alone (metadata snapshot + thin_delta + parse)
    const prev = (await d.snapshotList('vol')).at(-2)?.name ?? 's0';
    const delta = await timed(async () => {
      const src = await d.backupSource('vol', snap, { parentSnapshot: prev });
      await src.source.close();
      return src.changed ?? [];
    });
    const inc = await timed(() => d.backup({ volume: 'vol', snapshot: snap, store: storeInc }));
    // full read-and-hash: the same snapshot, no change list, parent = the store's latest backup
    const full = await timed(async () => {
      const src = await d.backupSource('vol', snap);
      try {
        return await backupVolume({ store: storeFull, volume: 'vol', source: src.source, snapshot: snap, parent: 'latest' });
      } finally {
        await src.source.close();
      }
    });
    rows.push({
      change: `${pct} %`,
      blocksChanged: changed.length,
      thinDeltaMs: Math.round(delta.ms),
      incrementalMs: Math.round(inc.ms),
      incrementalRead: inc.value.manifest.stats.blocksRead,
      incrementalUploaded: inc.value.manifest.stats.blocksUploaded,
      fullReadHashMs: Math.round(full.ms),
      fullRead: full.value.manifest.stats.blocksRead,
      fullUploaded: full.value.manifest.stats.blocksUploaded,
      speedup: Number((full.ms / inc.ms).toFixed(1)),
    });
  }
  console.log(`\nvolume ${SIZE / MiB} MiB (${BLOCKS} blocks of 2 MiB), pool block 2 MiB, zstd, vfs stores on tmpfs, guest under TCG`);
  console.log(
    `fill ${Math.round(fill.ms)} ms; first full backup ${Math.round(first.ms)} ms (${first.value.manifest.stats.blocksUploaded} blocks uploaded), again into the second store ${Math.round(firstFull.ms)} ms`,
  );
  console.table(rows);
  console.log(
    `BENCH_JSON ${JSON.stringify({ sizeMiB: SIZE / MiB, fillMs: Math.round(fill.ms), firstFullMs: Math.round(first.ms), rows })}`,
  );
  for (const s of await d.snapshotList('vol')) await d.snapshotDelete('vol', s.name);
  await d.deactivate('vol');
  await d.remove('vol');
  await d.destroyPool();
}

await main();
