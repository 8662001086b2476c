import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultyObjectStore, MemoryObjectStore, rejectionOf } from '@convoy/objectstore/testing';
import { acquireLock, deleteBackup, listBackupIds, restoreBackup } from '../src/index.js';
import { MiB, writeMixedImage } from './files.js';
import { backupFile, keysUnder } from './helpers.js';

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
        await new Promise((r) => setTimeout(r, 20));
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
    await store.put('locks/crashed.json', Buffer.from(JSON.stringify({ id: 'crashed', kind: 'backup', volume: 'v', host: 'dead', pid: 1, created: 'x', ttlMs: 60_000 })));
    await expect(acquireLock(store, { kind: 'delete', waitMs: 100 })).rejects.toMatchObject({ code: 'CONVOY_STORE_LOCKED', message: expect.stringContaining('dead') });
    now += 61_000;
    const l = await acquireLock(store, { kind: 'delete', waitMs: 100 });
    await l.release();
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

  it('delete waits for a running backup instead of collecting its blocks', async () => {
    const img = path.join(dir, 'w.img');
    await writeMixedImage(img, 16 * MiB);
    const store = new FaultyObjectStore(new MemoryObjectStore());
    const first = await backupFile({ store, volume: 'w', file: img });
    store.addFault({ op: 'put', kind: 'delay', delayMs: 400, key: /^blocks\// });
    await fs.writeFile(img, randomBytes(16 * MiB)); // 8 new, distinct blocks: at least two rounds of slow uploads
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const slow = backupFile({ store, volume: 'w', file: img, onProgress: () => started() });
    await running;
    await expect(deleteBackup({ store, volume: 'w', id: first.manifest.id, lockWaitMs: 100 })).rejects.toMatchObject({ code: 'CONVOY_STORE_LOCKED' });
    const second = await slow;
    await deleteBackup({ store, volume: 'w', id: first.manifest.id, lockWaitMs: 5_000 });
    expect(await listBackupIds(store, 'w')).toEqual([second.manifest.id]);
  });
});
