import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore, type ObjectStore } from '@convoy/objectstore';
import { FaultyObjectStore, MemoryObjectStore, rejectionOf } from '@convoy/objectstore/testing';
import {
  FakeClock,
  backupVolume,
  blockKey,
  deleteBackup,
  listBackupIds,
  listManifests,
  readBlockMap,
  readManifest,
  runMaintenance,
  verifyStore,
  type BackupResult,
} from '../src/index.js';
import { BufferSource, MiB } from '../src/test-helpers.js';
import { fetchBlockForTest } from './block-fetch.js';
import { collectAll, keysUnder } from './helpers.js';

/** Regression tests for the faults listed in the store-format issue, on format v2. */

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-v2-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function restored(store: ObjectStore, volume: string, id: string): Promise<Buffer> {
  const m = await readManifest(store, volume, id);
  const out = Buffer.alloc(m.size);
  for (const e of (await readBlockMap(store, m)).entries())
    (await fetchBlockForTest(store, e.id.toString('hex'))).copy(out, e.index * m.blockSize);
  return out;
}

/**
 * The store as a process killed at its k-th write sees it: that write and every later one fail
 * before reaching the store (kill -9 between two requests).
 */
function killedAt(store: ObjectStore, k: number): FaultyObjectStore {
  let count = 0;
  const gate = async (): Promise<void> => {
    if (++count >= k) throw new Error(`killed before write ${k}`);
  };
  return new FaultyObjectStore(store, [
    { op: 'put', kind: 'pause', gate },
    { op: 'delete', kind: 'pause', gate },
  ]);
}

describe('format v2 faults', () => {
  it('a source that shrank, backed up with an empty change list, restores exactly and its manifest stays readable', async () => {
    const store = new MemoryObjectStore();
    const big = randomBytes(10 * MiB);
    await backupVolume({ store, volume: 's', source: new BufferSource(big) });
    const small = Buffer.from(big.subarray(0, 5 * MiB + 3));
    const b = await backupVolume({ store, volume: 's', source: new BufferSource(small), changed: [] });
    expect((await restored(store, 's', b.manifest.id)).equals(small)).toBe(true);
    expect((await verifyStore({ store, readData: true })).problems).toEqual([]);
    // and it grows back
    const grown = Buffer.concat([small, randomBytes(3 * MiB)]);
    const c = await backupVolume({ store, volume: 's', source: new BufferSource(grown), changed: [] });
    expect((await restored(store, 's', c.manifest.id)).equals(grown)).toBe(true);
  });

  it('one delete costs the same object reads with 20 or 200 other volumes in a vfs store', async () => {
    const reads = async (others: number): Promise<{ get: number; stat: number; list: number }> => {
      const root = await fs.mkdtemp(path.join(dir, `flat-${others}-`));
      const store = new FaultyObjectStore(await new FsObjectStore(root).open());
      const tiny = (i: number): BufferSource => new BufferSource(Buffer.from(`volume ${i} `.repeat(100)));
      for (let i = 0; i < others; i++) await backupVolume({ store, volume: `other-${i}`, source: tiny(i) });
      await runMaintenance({ store });
      const a = await backupVolume({ store, volume: 'victim', source: tiny(-1) });
      await backupVolume({ store, volume: 'victim', source: tiny(-2) });
      store.resetCounts();
      await deleteBackup({ store, volume: 'victim', id: a.manifest.id });
      const { get, stat, list } = store.calls;
      await store.close();
      return { get, stat, list };
    };
    const small = await reads(20);
    const large = await reads(200);
    expect(large).toEqual(small);
    expect(small.get + small.stat + small.list).toBeLessThan(12);
  });

  it('a delete killed at any point is finished by running it again, and maintenance then collects exactly its blocks', async () => {
    for (let k = 1; ; k++) {
      const store = new FaultyObjectStore(new MemoryObjectStore());
      const keep = await backupVolume({ store, volume: 'v', source: new BufferSource(randomBytes(4 * MiB)) });
      const gone = await backupVolume({ store, volume: 'v', source: new BufferSource(randomBytes(4 * MiB)), parent: null });
      await runMaintenance({ store });
      const blocksBefore = await keysUnder(store, 'blocks/');
      const killed = killedAt(store, k);
      const first = await deleteBackup({ store: killed, volume: 'v', id: gone.manifest.id }).then(
        () => 'finished',
        () => 'killed',
      );
      const again = await deleteBackup({ store, volume: 'v', id: gone.manifest.id }).catch((err: unknown) => err);
      if (first === 'killed' && k > 1) expect(again).toMatchObject({ alreadyDeleted: expect.any(Boolean) });
      expect(await listBackupIds(store, 'v')).toEqual([keep.manifest.id]);
      await collectAll(store);
      expect((await keysUnder(store, 'blocks/')).length).toBe(blocksBefore.length - 2);
      expect(await keysUnder(store, 'refs/pending/')).toEqual([]);
      expect(await keysUnder(store, 'volumes/v/backups/')).toEqual([
        `volumes/v/backups/${keep.manifest.id}.blocks`,
        `volumes/v/backups/${keep.manifest.id}.json`,
      ]);
      expect((await verifyStore({ store, readData: true })).problems).toEqual([]);
      expect((await restored(store, 'v', keep.manifest.id)).length).toBe(4 * MiB);
      if (first === 'finished') {
        expect(k).toBeGreaterThan(2); // a delete makes a tombstone, removes the manifest, writes the volume record
        break;
      }
    }
  });

  it('a maintenance killed at any point is finished by running it again: nothing referenced is lost, nothing unreferenced stays', async () => {
    let finished = false;
    let kills = 0;
    for (let k = 1; !finished; k++) {
      const clock = new FakeClock();
      const store = new MemoryObjectStore('kill', clock.now);
      const data = [randomBytes(4 * MiB), randomBytes(4 * MiB), randomBytes(4 * MiB)];
      const bs: BackupResult[] = [];
      for (const [i, d] of data.entries()) bs.push(await backupVolume({ store, volume: `v${i}`, source: new BufferSource(d) }));
      await runMaintenance({ store });
      await deleteBackup({ store, volume: 'v1', id: (bs[1] as BackupResult).manifest.id });
      const extra = await backupVolume({
        store,
        volume: 'v3',
        source: new BufferSource(Buffer.concat([data[0] as Buffer, randomBytes(2 * MiB)])),
      });
      await runMaintenance({ store, full: true, graceMs: 0 }); // marks v1's blocks
      finished = await runMaintenance({ store: killedAt(store, k), full: true, graceMs: 0, clock }).then(
        () => true,
        () => false,
      );
      if (!finished) kills++;
      clock.advance(200_000); // the killed run's lease (if it wrote one) expires
      // run it again, twice: finish and merge, then sweep what is due
      await runMaintenance({ store, full: true, graceMs: 0, clock });
      await runMaintenance({ store, full: true, graceMs: 0, clock });
      expect((await verifyStore({ store, readData: true })).problems).toEqual([]);
      for (const [i, b] of [
        [0, bs[0]],
        [2, bs[2]],
      ] as const)
        expect((await restored(store, `v${i}`, (b as BackupResult).manifest.id)).equals(data[i] as Buffer)).toBe(true);
      expect((await restored(store, 'v3', extra.manifest.id)).length).toBe(6 * MiB);
      expect(await keysUnder(store, 'blocks/')).toHaveLength(2 + 2 + 1); // v0's, v2's, v3's new one
      expect(await keysUnder(store, 'refs/pending/')).toEqual([]);
      expect(k).toBeLessThan(500);
    }
    expect(kills).toBeGreaterThan(5); // it was killed at each of its writes (lease, runs, generation, records, deletes) in turn
  });

  it('one unreadable manifest does not stop other volumes’ deletes, maintenance or listing, and its blocks are kept', async () => {
    const store = new MemoryObjectStore();
    const va = await backupVolume({ store, volume: 'va', source: new BufferSource(randomBytes(4 * MiB)) });
    const vb = await backupVolume({ store, volume: 'vb', source: new BufferSource(randomBytes(4 * MiB)) });
    await runMaintenance({ store });
    const key = `volumes/va/backups/${va.manifest.id}.json`;
    store.corrupt(key, (store.peek(key) as Buffer).subarray(0, 20)); // truncated
    await store.delete([`volumes/va/backups/${va.manifest.id}.blocks`]); // and its block map gone
    await deleteBackup({ store, volume: 'vb', id: vb.manifest.id });
    await collectAll(store);
    expect(await keysUnder(store, 'blocks/')).toHaveLength(2); // va's, kept
    const unreadable: string[] = [];
    expect(await listManifests(store, undefined, undefined, (r) => unreadable.push(r.volume))).toEqual([]);
    expect(unreadable).toEqual(['va']);
  });

  it('a backup re-uploads a block that went missing from the store instead of trusting that it exists', async () => {
    const store = new MemoryObjectStore();
    const data = randomBytes(6 * MiB);
    const a = await backupVolume({ store, volume: 'm', source: new BufferSource(data) });
    const lost = (await readBlockMap(store, a.manifest)).at(1).id.toString('hex');
    await store.delete([blockKey(lost)]);
    const b = await backupVolume({ store, volume: 'm', source: new BufferSource(data) }); // incremental, reads everything
    expect(b.manifest.stats.blocksUploaded).toBe(1);
    expect((await restored(store, 'm', b.manifest.id)).equals(data)).toBe(true);
    expect((await verifyStore({ store })).problems).toEqual([]);
  });

  it('a block verify found corrupt is overwritten by the next backup that reads its content, even with --parent none', async () => {
    const store = new MemoryObjectStore();
    const data = randomBytes(6 * MiB);
    const a = await backupVolume({ store, volume: 'c', source: new BufferSource(data) });
    const bad = blockKey((await readBlockMap(store, a.manifest)).at(2).id.toString('hex'));
    const obj = Buffer.from(store.peek(bad) as Buffer);
    obj[obj.length - 1] = (obj[obj.length - 1] ?? 0) ^ 0xff;
    store.corrupt(bad, obj);
    const quick = await verifyStore({ store });
    expect(quick).toMatchObject({ ok: true, dataChecked: false }); // existence only: it says so
    const full = await verifyStore({ store, readData: true });
    expect(full.problems.map((p) => [p.key, p.kind])).toEqual([[bad, 'corrupt']]);
    const b = await backupVolume({ store, volume: 'c', source: new BufferSource(data), parent: null });
    expect(b.manifest.stats.blocksUploaded).toBe(1);
    expect((await verifyStore({ store, readData: true })).problems).toEqual([]);
    expect(await keysUnder(store, 'gc/damaged/')).toEqual([]);
  });

  it('a stale lease of a killed backup never makes maintenance or a delete fail', async () => {
    const clock = new FakeClock();
    const store = new MemoryObjectStore('stale', clock.now);
    const a = await backupVolume({ store, volume: 'k', source: new BufferSource(randomBytes(2 * MiB)), clock });
    // killed processes' leases of every kind
    for (const kind of ['backup', 'restore', 'maintenance'] as const) {
      await store.put(
        `locks/dead-${kind}.json`,
        Buffer.from(JSON.stringify({ id: `dead-${kind}`, kind, volume: 'k', host: 'gone', pid: 1, created: 'x', ttlMs: 150_000 })),
      );
    }
    clock.advance(100_000);
    await deleteBackup({ store, volume: 'k', id: a.manifest.id, clock });
    const r = await runMaintenance({ store, clock, lockWaitMs: 1_000 }); // waits the dead maintenance out, never fails
    expect(r.merge.deletes).toBe(1);
    const full = await runMaintenance({ store, full: true, clock, graceMs: 0 });
    expect(full.sweep?.leasesRemoved).toBeGreaterThanOrEqual(0);
    expect(await keysUnder(store, 'locks/')).toEqual([]);
  });

  it('with a tiny memory budget maintenance writes many small runs and sweep records, and collects exactly the same', async () => {
    const store = new MemoryObjectStore();
    const data = Array.from({ length: 6 }, () => randomBytes(6 * MiB));
    const bs: BackupResult[] = [];
    for (const [i, d] of data.entries()) bs.push(await backupVolume({ store, volume: `t${i}`, source: new BufferSource(d) }));
    const q = await runMaintenance({ store, budgetRecords: 2 });
    expect(q.merge.adds).toBe(6);
    expect(q.merge.runsWritten).toBeGreaterThan(6); // flushed every 2 records
    for (const b of bs.slice(0, 4)) await deleteBackup({ store, volume: b.manifest.volume, id: b.manifest.id });
    const mark = await runMaintenance({ store, full: true, graceMs: 0, budgetRecords: 2 });
    expect(mark.sweep?.blocksMarked).toBe(12);
    expect((await keysUnder(store, 'gc/sweeps/')).filter((k) => k.endsWith('.json')).length).toBeGreaterThan(1);
    const sweep = await runMaintenance({ store, full: true, graceMs: 0, budgetRecords: 2 });
    expect(sweep.sweep?.blocksDeleted).toBe(12);
    expect(await keysUnder(store, 'blocks/')).toHaveLength(6);
    for (const i of [4, 5])
      expect((await restored(store, `t${i}`, (bs[i] as BackupResult).manifest.id)).equals(data[i] as Buffer)).toBe(true);
    expect((await verifyStore({ store, readData: true })).problems).toEqual([]);
  });

  it('a fleet shares one full maintenance per interval: fullIfOlderThanMs runs full only when no host ran one within it (store clock)', async () => {
    const clock = new FakeClock();
    const store = new MemoryObjectStore('fleet', clock.now);
    await backupVolume({ store, volume: 'f', source: new BufferSource(randomBytes(2 * MiB)), clock });
    const day = 86_400_000;
    expect((await runMaintenance({ store, clock, fullIfOlderThanMs: day })).full).toBe(true); // never had one
    clock.advance(day / 2);
    expect((await runMaintenance({ store, clock, fullIfOlderThanMs: day })).full).toBe(false); // another host's was 12 h ago
    clock.advance(day / 2);
    const r = await runMaintenance({ store, clock, fullIfOlderThanMs: day });
    expect(r.full).toBe(true);
    expect(r.sweep).toBeDefined();
  });

  it('a damaged newest backup does not stop the next backup of its volume: it is incremental against an older one, or full', async () => {
    const store = new MemoryObjectStore();
    const d1 = randomBytes(6 * MiB);
    await backupVolume({ store, volume: 'n', source: new BufferSource(d1) });
    const d2 = Buffer.concat([d1.subarray(0, 4 * MiB), randomBytes(2 * MiB)]);
    const b2 = await backupVolume({ store, volume: 'n', source: new BufferSource(d2) });
    await store.delete([`volumes/n/backups/${b2.manifest.id}.blocks`]); // the newest is damaged
    const d3 = Buffer.concat([d2.subarray(0, 2 * MiB), randomBytes(4 * MiB)]);
    const b3 = await backupVolume({ store, volume: 'n', source: new BufferSource(d3), changed: [{ offset: 2 * MiB, length: 4 * MiB }] });
    expect(b3.manifest.parent).not.toBe(b2.manifest.id);
    expect(b3.manifest.stats.blocksRead).toBe(3); // the change list is relative to the damaged one: all read
    expect((await restored(store, 'n', b3.manifest.id)).equals(d3)).toBe(true);
  });

  it('the manifest a backup returns is the one it stored, duration included', async () => {
    const store = new MemoryObjectStore();
    const clock = new FakeClock();
    const source = new BufferSource(randomBytes(4 * MiB));
    const read = source.read.bind(source);
    source.read = async (o, l) => {
      clock.advance(1_000); // each read takes a (fake) second
      return read(o, l);
    };
    const b = await backupVolume({ store, volume: 'd', source, clock });
    expect(b.manifest.stats.durationMs).toBeGreaterThanOrEqual(2_000);
    expect(await readManifest(store, 'd', b.manifest.id)).toEqual(b.manifest);
  });

  it('a lost newest index generation stops maintenance before it deletes anything, verify names it, and --rebuild-index restores the index', async () => {
    const store = new MemoryObjectStore();
    const d1 = randomBytes(4 * MiB);
    const d2 = randomBytes(4 * MiB);
    const b1 = await backupVolume({ store, volume: 'g', source: new BufferSource(d1) });
    await runMaintenance({ store });
    const b2 = await backupVolume({ store, volume: 'g', source: new BufferSource(d2) });
    await runMaintenance({ store }); // generation 2 counts b2; its marker is gone
    await store.delete(['refs/index/000000000002.json']); // lost to a person, a lifecycle rule, a disk
    expect((await rejectionOf(runMaintenance({ store, full: true, graceMs: 0 }))).code).toBe('CONVOY_INDEX_CORRUPT');
    expect(await keysUnder(store, 'blocks/')).toHaveLength(4);
    const v = await verifyStore({ store });
    expect(v.problems.map((p) => [p.key, p.kind])).toEqual([['refs/index/000000000002.json', 'index']]);
    const rebuilt = await runMaintenance({ store, rebuildIndex: true });
    expect(rebuilt.merge.adds).toBe(2);
    await collectAll(store);
    expect((await verifyStore({ store, readData: true })).problems).toEqual([]);
    expect((await restored(store, 'g', b1.manifest.id)).equals(d1)).toBe(true);
    expect((await restored(store, 'g', b2.manifest.id)).equals(d2)).toBe(true);
  });

  it('after --rebuild-index replaced a garbled generation, the next maintenances succeed and prune it', async () => {
    const store = new MemoryObjectStore();
    await backupVolume({ store, volume: 'gg', source: new BufferSource(randomBytes(2 * MiB)) });
    await runMaintenance({ store });
    await backupVolume({ store, volume: 'gg', source: new BufferSource(randomBytes(2 * MiB)) });
    await runMaintenance({ store });
    store.corrupt('refs/index/000000000002.json', Buffer.from('{"format":"garbage'));
    expect((await rejectionOf(runMaintenance({ store }))).code).toBe('CONVOY_INDEX_CORRUPT');
    await runMaintenance({ store, rebuildIndex: true });
    await collectAll(store);
    expect(await keysUnder(store, 'refs/index/')).not.toContain('refs/index/000000000002.json');
    expect((await verifyStore({ store, readData: true })).problems).toEqual([]);
    expect(await keysUnder(store, 'blocks/')).toHaveLength(2);
  });

  it('a generation that parses but names a garbled run key is a damaged index, named by verify, never an invalid-key crash', async () => {
    const store = new MemoryObjectStore();
    await backupVolume({ store, volume: 'k', source: new BufferSource(randomBytes(2 * MiB)) });
    await runMaintenance({ store });
    const key = 'refs/index/000000000001.json';
    store.corrupt(key, Buffer.from((store.peek(key) as Buffer).toString().replace('refs/runs/', 'refs/r\u00ffns/')));
    const v = await verifyStore({ store });
    expect(v.problems.map((p) => [p.key, p.kind])).toEqual([[key, 'index']]);
    expect((await rejectionOf(runMaintenance({ store }))).code).toBe('CONVOY_INDEX_CORRUPT');
  });

  it('verify names a corrupt index run, and a block the index does not count', async () => {
    const store = new MemoryObjectStore();
    await backupVolume({ store, volume: 'r', source: new BufferSource(randomBytes(4 * MiB)) });
    await runMaintenance({ store });
    const run = (await keysUnder(store, 'refs/runs/'))[0] as string;
    const bytes = Buffer.from(store.peek(run) as Buffer);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    store.corrupt(run, bytes);
    expect((await verifyStore({ store })).problems.map((p) => [p.key, p.kind])).toEqual([[run, 'index']]);
    // an index that is readable but misses a backup (written by hand, as a bug would)
    const other = new MemoryObjectStore();
    const b = await backupVolume({ store: other, volume: 'u', source: new BufferSource(randomBytes(2 * MiB)) });
    await runMaintenance({ store: other });
    for (const k of await keysUnder(other, 'refs/runs/')) await other.delete([k]);
    const gen = JSON.parse((other.peek('refs/index/000000000001.json') as Buffer).toString()) as { shards: Record<string, unknown> };
    gen.shards = {};
    other.corrupt('refs/index/000000000001.json', Buffer.from(JSON.stringify(gen)));
    const v = await verifyStore({ store: other });
    expect(v.problems.map((p) => p.kind)).toEqual(['index']);
    expect(v.problems[0]?.backups).toEqual([`u/${b.manifest.id}`]);
  });

  it('a lost reply on the block map write fails the backup before it commits; the next backup commits', async () => {
    const store = new FaultyObjectStore(new MemoryObjectStore());
    store.addFault({ op: 'put', kind: 'lost-ack', key: /\.blocks$/, nth: 1 });
    const err = await rejectionOf(backupVolume({ store, volume: 'o', source: new BufferSource(randomBytes(2 * MiB)) }));
    expect(err.message).toMatch(/injected/);
    const ok = await backupVolume({ store, volume: 'o', source: new BufferSource(randomBytes(2 * MiB)) });
    expect(await listBackupIds(store, 'o')).toEqual([ok.manifest.id]);
  });
});
