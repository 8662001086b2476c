import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '@convoy/objectstore';
import { FaultyObjectStore, Gate, MemoryObjectStore, rejectionOf } from '@convoy/objectstore/testing';
import {
  FakeClock,
  backupVolume,
  deleteBackup,
  listBackupIds,
  readBlockMap,
  readManifest,
  runMaintenance,
  verifyStore,
  type BackupResult,
} from '../src/index.js';
import { BufferSource, MiB } from '../src/test-helpers.js';
import { keysUnder } from './helpers.js';
import { allStores, type StoreKind } from './stores.js';

/**
 * The two races of docs/gc-safety.md, scripted step by step with gates on the store (no sleeps)
 * and a fake clock for leases. Each ends with every committed backup restorable, bit for bit,
 * and verify --read-data clean.
 */

const image = (blocks: number): Buffer => randomBytes(blocks * 2 * MiB);

async function restoredEquals(store: ObjectStore, volume: string, id: string, want: Buffer): Promise<void> {
  const m = await readManifest(store, volume, id);
  const map = await readBlockMap(store, m);
  const got = Buffer.alloc(m.size);
  const { fetchBlockForTest } = await import('./block-fetch.js');
  for (const e of map.entries()) (await fetchBlockForTest(store, e.id.toString('hex'))).copy(got, e.index * m.blockSize);
  expect(got.equals(want)).toBe(true);
}

async function cleanAndRestorable(store: ObjectStore, backups: { r: BackupResult; data: Buffer }[]): Promise<void> {
  const v = await verifyStore({ store, readData: true });
  expect(v.problems).toEqual([]);
  for (const { r, data } of backups) await restoredEquals(store, r.manifest.volume, r.manifest.id, data);
}

async function faulty(kind: StoreKind): Promise<FaultyObjectStore> {
  return new FaultyObjectStore(await kind.create());
}

describe.each(allStores())('GC races on $name', (kind) => {
  it('a backup paused past its lease while a delete and two full maintenances sweep the blocks it uploaded re-uploads them and commits a complete backup', async () => {
    const clock = new FakeClock();
    const store = await faulty(kind);
    const v1 = image(3);
    const a = await backupVolume({ store, volume: 'vol', source: new BufferSource(v1), clock, parent: null });
    const v2 = Buffer.concat([v1.subarray(0, 2 * MiB), randomBytes(4 * MiB)]); // 2 new blocks
    const gate = new Gate();
    store.addFault({ op: 'put', kind: 'pause', key: /^refs\/pending\/.*\.add$/, times: 1, gate: () => gate.wait() });
    const paused = backupVolume({ store, volume: 'vol', source: new BufferSource(v2), clock });
    await gate.reached; // its blocks are uploaded, its marker is not written yet
    clock.advance(200_000); // SIGSTOP for 200 s: past the 150 s lease
    await deleteBackup({ store, volume: 'vol', id: a.manifest.id, clock });
    const m1 = await runMaintenance({ store, full: true, graceMs: 0, clock });
    const m2 = await runMaintenance({ store, full: true, graceMs: 0, clock });
    expect(m1.sweep?.blocksMarked).toBe(5); // a's 3 blocks (one of them the paused backup uses too) and its 2 new ones
    expect(m2.sweep?.blocksDeleted).toBe(5); // really gone from the store
    gate.open(); // SIGCONT
    const b = await paused;
    expect(b.guard?.reuploaded).toBe(3);
    expect(await listBackupIds(store, 'vol')).toEqual([b.manifest.id]);
    await cleanAndRestorable(store, [{ r: b, data: v2 }]);
    await store.close();
  });

  it('a backup that deduplicates against blocks a paused sweep is about to delete waits for the sweep, then re-uploads what it deleted', async () => {
    const clock = new FakeClock();
    const store = await faulty(kind);
    const data = image(2);
    const other = image(1);
    const keep = await backupVolume({ store, volume: 'keep', source: new BufferSource(other), clock });
    const a = await backupVolume({ store, volume: 'a', source: new BufferSource(data), clock });
    await deleteBackup({ store, volume: 'a', id: a.manifest.id, clock });
    const mark = await runMaintenance({ store, full: true, graceMs: 0, clock });
    expect(mark.sweep?.blocksMarked).toBe(2); // a's blocks are orphans now, doomed
    // The next full maintenance stops right after it read the pending markers (the mark is done,
    // the sweep has not deleted anything yet) ...
    const gate = new Gate();
    store.addFault({ op: 'list', kind: 'pause', key: /^blocks\//, times: 1, gate: () => gate.wait() });
    const sweeping = runMaintenance({ store, full: true, graceMs: 0, clock });
    await gate.reached;
    // ... and a new backup of the same data deduplicates against the doomed blocks (they exist).
    const waits: string[] = [];
    const b = backupVolume({ store, volume: 'b', source: new BufferSource(data), clock, onWait: (w) => waits.push(w) && gate.open() });
    const swept = await sweeping;
    expect(swept.sweep?.blocksDeleted).toBe(2); // it did delete them: it never saw b's marker
    const done = await b;
    expect(waits.length).toBeGreaterThan(0); // b waited for the sweep to finish ...
    expect(done.guard?.reuploaded).toBe(2); // ... then put back what it deleted
    expect(done.manifest.stats.blocksUploaded).toBe(0); // it had deduplicated them
    await cleanAndRestorable(store, [
      { r: done, data },
      { r: keep, data: other },
    ]);
    await store.close();
  });

  it('a sweep that is only marked when a backup deduplicates spares the blocks: it sees the backup when it re-checks', async () => {
    const clock = new FakeClock();
    const store = await faulty(kind);
    const data = image(2);
    const a = await backupVolume({ store, volume: 'a', source: new BufferSource(data), clock });
    await deleteBackup({ store, volume: 'a', id: a.manifest.id, clock });
    expect((await runMaintenance({ store, full: true, graceMs: 0, clock })).sweep?.blocksMarked).toBe(2);
    const b = await backupVolume({ store, volume: 'b', source: new BufferSource(data), clock }); // dedups: doomed blocks still exist
    expect(b.manifest.stats.blocksUploaded).toBe(0);
    expect(b.guard?.reuploaded).toBe(0);
    const swept = await runMaintenance({ store, full: true, graceMs: 0, clock });
    expect(swept.sweep).toMatchObject({ blocksDeleted: 0, blocksSpared: 2 });
    await cleanAndRestorable(store, [{ r: b, data }]);
    await store.close();
  });
});

describe('GC races on memory with store time from the fake clock', () => {
  it('a sweeper paused past its lease deletes nothing when it resumes; the backup that waited it out commits', async () => {
    const clock = new FakeClock();
    const store = new FaultyObjectStore(new MemoryObjectStore('race', clock.now));
    const data = image(2);
    const a = await backupVolume({ store, volume: 'a', source: new BufferSource(data), clock });
    await deleteBackup({ store, volume: 'a', id: a.manifest.id, clock });
    await runMaintenance({ store, full: true, graceMs: 0, clock });
    const gate = new Gate();
    store.addFault({ op: 'list', kind: 'pause', key: /^blocks\//, times: 1, gate: () => gate.wait() });
    const sweeping = runMaintenance({ store, full: true, graceMs: 0, clock });
    await gate.reached;
    // The backup waits while the sweeper's lease lives; its waits move the clock past the lease.
    const b = await backupVolume({ store, volume: 'b', source: new BufferSource(data), clock });
    expect(b.guard?.sweepsWaitedFor).toBeGreaterThan(0);
    gate.open();
    expect((await rejectionOf(sweeping)).code).toBe('CONVOY_LOCK_LOST');
    expect(await keysUnder(store, 'blocks/')).toHaveLength(2);
    await cleanAndRestorable(store, [{ r: b, data }]);
  });
});

describe('abandoned markers (docs/gc-safety.md)', () => {
  it('a backup whose marker maintenance merged between its manifest and its marker check commits, and its blocks are freed once deleted', async () => {
    const clock = new FakeClock();
    const store = new FaultyObjectStore(new MemoryObjectStore('merge-race', clock.now));
    const data = image(2);
    const gate = new Gate();
    // The 2nd stat of its marker: the 1st confirms the marker was written, before the manifest.
    store.addFault({ op: 'stat', kind: 'pause', key: /^refs\/pending\/.*\.add$/, nth: 2, gate: () => gate.wait() });
    const running = backupVolume({ store, volume: 'm', source: new BufferSource(data), clock });
    await gate.reached; // its manifest is written; it is about to look for its marker
    const merged = await runMaintenance({ store, clock });
    expect(merged.merge.adds).toBe(1); // merged and its marker removed
    gate.open();
    const b = await running; // not withdrawn
    expect(await listBackupIds(store, 'm')).toEqual([b.manifest.id]);
    await deleteBackup({ store, volume: 'm', id: b.manifest.id, clock });
    await runMaintenance({ store, full: true, graceMs: 0, clock });
    await runMaintenance({ store, full: true, graceMs: 0, clock });
    expect(await keysUnder(store, 'blocks/')).toEqual([]); // nothing leaked
  });

  it('a backup paused before its manifest past its lease and the grace period is set aside by maintenance and withdraws; nothing leaks', async () => {
    const clock = new FakeClock();
    const store = new FaultyObjectStore(new MemoryObjectStore('abandon', clock.now));
    const gate = new Gate();
    store.addFault({ op: 'put', kind: 'pause', key: /^volumes\/.*\/backups\/.*\.json$/, times: 1, gate: () => gate.wait() });
    const running = backupVolume({ store, volume: 'p', source: new BufferSource(image(2)), clock });
    await gate.reached;
    clock.advance(200_000); // its lease expires (store clock) and its marker is older than the grace
    const m = await runMaintenance({ store, clock, graceMs: 60_000 });
    expect(m.merge.abandoned).toBe(1);
    gate.open();
    expect((await rejectionOf(running)).code).toBe('CONVOY_LOCK_LOST');
    expect(await listBackupIds(store, 'p')).toEqual([]);
    await runMaintenance({ store, full: true, graceMs: 0, clock });
    await runMaintenance({ store, full: true, graceMs: 0, clock });
    expect(await keysUnder(store, 'blocks/')).toEqual([]);
    expect(await keysUnder(store, 'volumes/p/backups/')).toEqual([]);
  });
});
