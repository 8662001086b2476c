import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ObjectStoreError } from '@convoy/objectstore';
import { FaultyObjectStore, MemoryObjectStore } from '@convoy/objectstore/testing';
import { backupVolume } from './backup.js';
import { BufferSource, MiB } from './test-helpers.js';
import { verifyStore } from './verify.js';

// A store that fails (S3 answering 503 past every retry, a connection that keeps dropping) says
// nothing about the objects: verify must fail with the store's error — never report a whole
// backup as an invalid manifest or an unreadable block (exit 3, "damage found"), which sends
// the user to repair or delete a backup that is fine.
const unavailable = (): Error => new ObjectStoreError('S3 get failed: SlowDown', { details: { httpStatus: 503 } });

describe('verify when the store fails (not the objects)', () => {
  it.each([
    ['a manifest', 'get', /^volumes\/[^/]+\/backups\/[^/]+\.json$/, false],
    ['a block map', 'get', /\.blocks$/, false],
    ['a block (--read-data)', 'get', /^blocks\//, true],
    ['a block HEAD', 'stat', /^blocks\//, false],
  ] as const)('a failed read of %s fails verify with the store error, reporting no damage', async (_what, op, key, readData) => {
    const store = new FaultyObjectStore(new MemoryObjectStore());
    await backupVolume({ store, volume: 'v', source: new BufferSource(randomBytes(4 * MiB)) });
    expect((await verifyStore({ store, readData })).ok).toBe(true);
    store.addFault({ op, kind: 'error', key, nth: 1, error: unavailable });
    await expect(verifyStore({ store, readData })).rejects.toMatchObject({ code: 'CONVOY_OBJECTSTORE_FAILED' });
    store.clearFaults();
    expect((await verifyStore({ store, readData })).ok).toBe(true);
  });

  it('a damaged manifest is still reported as a problem, not thrown', async () => {
    const inner = new MemoryObjectStore();
    const store = new FaultyObjectStore(inner);
    const { manifest } = await backupVolume({ store, volume: 'v', source: new BufferSource(randomBytes(2 * MiB)) });
    await inner.put(`volumes/v/backups/${manifest.id}.json`, Buffer.from('{garbage'));
    const r = await verifyStore({ store });
    expect(r.problems.map((p) => p.kind)).toEqual(['invalid-manifest']);
  });
});
