import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultyObjectStore, MemoryObjectStore, rejectionOf } from '@convoy/objectstore/testing';
import { FakeClock, acquireLock, deleteBackup, listBackupIds, listLeases, restoreBackup } from '../src/index.js';
import { MiB, writeMixedImage } from './files.js';
import { backupFile, initV1, keysUnder } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-locks-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('store locks', () => {
  it('backups and restores share the store; delete excludes them, naming the holder', async () => {
    const store = new MemoryObjectStore();
    const a = await acquireLock(store, { kind: 'backup', volume: 'v', host: 'host-a' });
    const b = await acquireLock(store, { kind: 'restore', volume: 'v', host: 'host-b' });
    const err = await rejectionOf(acquireLock(store, { kind: 'delete', waitMs: 200 }));
    expect(err.code).toBe('CONVOY_STORE_LOCKED');
    expect(err.message).toMatch(/(backup on host-a|restore on host-b)/);
    await a.release();
    await b.release();
    const d = await acquireLock(store, { kind: 'delete', waitMs: 200 });
    await expect(acquireLock(store, { kind: 'backup', waitMs: 200 })).rejects.toMatchObject({ code: 'CONVOY_STORE_LOCKED' });
    await d.release();
    expect(await keysUnder(store, 'locks/')).toEqual([]);
  });

  it('of 6 racing delete locks exactly one proceeds at a time', async () => {
    const store = new MemoryObjectStore();
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const l = await acquireLock(store, { kind: 'delete', waitMs: 30_000 });
        inside++;
        maxInside = Math.max(maxInside, inside);
        // hold it across several turns of the event loop, so the others try meanwhile
        for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
        inside--;
        await l.release();
      }),
    );
    expect(maxInside).toBe(1);
  });

  it('a lock left by a crashed process stops blocking once its TTL passed (by the store clock)', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = new MemoryObjectStore('clock', () => new Date(now));
    // a crashed backup: its lock object stays, never refreshed
    await store.put(
      'locks/crashed.json',
      Buffer.from(JSON.stringify({ id: 'crashed', kind: 'backup', volume: 'v', host: 'dead', pid: 1, created: 'x', ttlMs: 60_000 })),
    );
    await expect(acquireLock(store, { kind: 'delete', waitMs: 100 })).rejects.toMatchObject({
      code: 'CONVOY_STORE_LOCKED',
      message: expect.stringContaining('dead'),
    });
    now += 61_000;
    const l = await acquireLock(store, { kind: 'delete', waitMs: 100 });
    await l.release();
  });

  it('a lease left by a killed process is waited out and taken over, never failing the operation', async () => {
    const clock = new FakeClock();
    const store = new MemoryObjectStore('clock', clock.now);
    const dead = await acquireLock(store, { kind: 'maintenance', host: 'dead', clock, ttlMs: 60_000 });
    dead.release = async () => undefined; // killed: it never releases nor refreshes
    clock.advance(30_000); // older than 2/5 of its TTL: it has missed refreshes
    let waits = 0;
    const l = await acquireLock(store, { kind: 'maintenance', clock, waitMs: 1_000, onWait: () => waits++ });
    expect(waits).toBeGreaterThan(0);
    expect(await keysUnder(store, 'locks/')).toEqual([l.key]); // the expired lease was removed
    await l.release();
  });

  it('an unreadable lease record is held by an unknown holder until it expires, never read as "no lease"', async () => {
    for (const [key, body, kind] of [
      ['locks/maintenance-x1.json', '{"id": "maintenance-x1", "ki', 'maintenance'], // torn
      ['locks/legacy.json', '{"hello":1}', 'maintenance'], // not a lease body, no kind in its name: conflicts with everything
      ['locks/backup-x2.json', 'garbage', 'delete'], // a backup's: keeps a v1 delete out
    ] as const) {
      const clock = new FakeClock();
      const store = new MemoryObjectStore('clock', clock.now);
      await store.put(key, Buffer.from(body));
      const [l] = await listLeases(store, clock.now());
      expect(l).toMatchObject({ key, expired: false, corrupt: expect.any(String) });
      let waited = 0;
      const taken = await acquireLock(store, {
        kind,
        clock,
        waitMs: 0,
        onWait: () => {
          waited++;
          clock.advance(30_000); // the wait goes on until the record is older than the default TTL
        },
      });
      expect(waited).toBeGreaterThanOrEqual(5);
      expect(await keysUnder(store, 'locks/')).toEqual([taken.key]); // expired, then removed as a dead lease
      await taken.release();
    }
    // a backup's unreadable record does not keep out another backup or a maintenance
    const clock = new FakeClock();
    const store = new MemoryObjectStore('clock', clock.now);
    await store.put('locks/backup-x3.json', Buffer.from('garbage'));
    for (const kind of ['backup', 'maintenance'] as const) await (await acquireLock(store, { kind, clock, waitMs: 0 })).release();
  });

  it('a live holder that keeps refreshing makes a conflicting operation give up after waitMs, naming it', async () => {
    const clock = new FakeClock();
    const store = new MemoryObjectStore('clock', clock.now);
    const live = await acquireLock(store, { kind: 'maintenance', host: 'busy-host', clock, ttlMs: 60_000 });
    const sleep = clock.sleep;
    clock.sleep = async (ms, signal) => {
      await sleep(ms, signal);
      await live.refresh();
    };
    const err = await rejectionOf(acquireLock(store, { kind: 'maintenance', clock, waitMs: 20_000 }));
    expect(err).toMatchObject({ code: 'CONVOY_STORE_LOCKED', message: expect.stringContaining('busy-host') });
    await live.release();
  });

  it('a lease lost to a pause stays lost: it is not rewritten and assertHeld throws for good', async () => {
    const clock = new FakeClock();
    const store = new MemoryObjectStore('clock', clock.now);
    const l = await acquireLock(store, { kind: 'backup', clock, ttlMs: 10_000 });
    clock.advance(9_000); // paused past 80 % of the TTL
    const before = (await store.stat(l.key))?.lastModified;
    await l.refresh();
    expect((await store.stat(l.key))?.lastModified).toEqual(before); // not revived
    expect(() => l.assertHeld()).toThrow(/lost/);
    await l.refresh();
    expect(() => l.assertHeld()).toThrow(/lost/);
    await l.release();
  });

  it('a lease judges its age from when the last refresh was sent, by the monotonic clock: a wall-clock jump changes nothing', async () => {
    const clock = new FakeClock();
    const store = new MemoryObjectStore('clock', clock.now);
    const l = await acquireLock(store, { kind: 'backup', clock, ttlMs: 10_000 });
    clock.jump(3_600_000); // NTP steps the wall clock an hour ahead
    expect(() => l.assertHeld()).not.toThrow();
    clock.jump(-7_200_000); // and back
    await l.refresh();
    expect(() => l.assertHeld()).not.toThrow();
    await l.release();
  });

  it('a backup among many others reads none of their leases: it lists, and reads only kinds that conflict', async () => {
    const inner = new MemoryObjectStore();
    const others = await Promise.all(Array.from({ length: 50 }, (_, i) => acquireLock(inner, { kind: 'backup', volume: `v${i}` })));
    const store = new FaultyObjectStore(inner);
    const mine = await acquireLock(store, { kind: 'backup', volume: 'mine' });
    expect(store.calls.get).toBe(0);
    expect(store.calls.list).toBe(2); // the listing, and its own lease's listed time
    await mine.release();
    for (const o of others) await o.release();
  });

  it('a holder whose lock was removed stops before committing', async () => {
    const store = new MemoryObjectStore();
    const l = await acquireLock(store, { kind: 'backup' });
    await store.delete(await keysUnder(store, 'locks/'));
    await l.refresh();
    expect(() => l.assertHeld()).toThrow(/removed/);
    await l.release();
  });

  it('a restore that cannot open its target fails before taking a lock', async () => {
    const img = path.join(dir, 'r.img');
    await writeMixedImage(img, 3 * MiB);
    const store = new MemoryObjectStore();
    const { manifest } = await backupFile({ store, volume: 'r', file: img });
    const err = await rejectionOf(restoreBackup({ store, volume: 'r', id: manifest.id, target: path.join(dir, 'no-such-dir', 'out') }));
    expect(err.code).toBe('CONVOY_TARGET_INVALID');
    expect(await keysUnder(store, 'locks/')).toEqual([]);
  });

  it('format v1: delete waits for a running backup instead of collecting its blocks', async () => {
    const img = path.join(dir, 'w.img');
    await writeMixedImage(img, 16 * MiB);
    const store = new FaultyObjectStore(new MemoryObjectStore());
    await initV1(store); // format v1: delete runs GC under a store-wide lock
    const first = await backupFile({ store, volume: 'w', file: img });
    store.addFault({ op: 'put', kind: 'delay', delayMs: 400, key: /^blocks\// });
    await fs.writeFile(img, randomBytes(16 * MiB)); // 8 new, distinct blocks: at least two rounds of slow uploads
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const slow = backupFile({ store, volume: 'w', file: img, onProgress: () => started() });
    await running;
    await expect(deleteBackup({ store, volume: 'w', id: first.manifest.id, lockWaitMs: 100 })).rejects.toMatchObject({
      code: 'CONVOY_STORE_LOCKED',
    });
    const second = await slow;
    await deleteBackup({ store, volume: 'w', id: first.manifest.id, lockWaitMs: 5_000 });
    expect(await listBackupIds(store, 'w')).toEqual([second.manifest.id]);
  });
});
