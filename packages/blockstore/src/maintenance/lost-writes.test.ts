import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FaultyObjectStore, MemoryObjectStore } from '@convoy/objectstore/testing';
import { backupVolume } from '../backup.js';
import { deleteBackup } from '../delete.js';
import { SWEEPS_PREFIX } from '../format/layout.js';
import { BufferSource, MiB } from '../test-helpers.js';
import { verifyStore } from '../verify.js';
import { runMaintenance } from './maintenance.js';

// A lying store (a PUT answered 200 and never stored) during maintenance: the run fails with
// CONVOY_STORE_WRITE_LOST before it commits what depends on the lost object, so the index the
// store had stays the index, and the next maintenance works. (Before: a generation naming a lost
// run was committed, and every later maintenance failed with CONVOY_INDEX_CORRUPT until
// `--rebuild-index`; a lost sweep record or doomed list broke the sweep and the backups' guard.)
async function storeWithGarbage(): Promise<FaultyObjectStore> {
  const store = new FaultyObjectStore(new MemoryObjectStore());
  const a = await backupVolume({ store, volume: 'v', source: new BufferSource(randomBytes(4 * MiB)) });
  await backupVolume({ store, volume: 'v', source: new BufferSource(randomBytes(4 * MiB)) });
  await deleteBackup({ store, volume: 'v', id: a.manifest.id });
  return store;
}

describe('maintenance when the store loses a write it acknowledged', () => {
  it.each([
    ['an index run', /^refs\/runs\//, false],
    ['an index generation', /^refs\/index\//, false],
    ['a doomed list', new RegExp(`^${SWEEPS_PREFIX}.*\\.ids$`), true],
    ['a sweep record', new RegExp(`^${SWEEPS_PREFIX}.*\\.json$`), true],
  ])('%s: maintenance fails with CONVOY_STORE_WRITE_LOST, and the next one succeeds; nothing is lost', async (_what, key, full) => {
    const store = await storeWithGarbage();
    store.addFault({ op: 'put', kind: 'drop', key, nth: 1 });
    await expect(runMaintenance({ store, full, graceMs: 0 })).rejects.toMatchObject({ code: 'CONVOY_STORE_WRITE_LOST' });
    expect(store.calls.put).toBeGreaterThan(0);
    store.clearFaults();
    await runMaintenance({ store, full: true, graceMs: 0 });
    await runMaintenance({ store, full: true, graceMs: 0 });
    expect((await verifyStore({ store, readData: true })).problems).toEqual([]);
  });

  it('the set-aside copy of an abandoned add marker: maintenance fails before it removes the marker', async () => {
    const store = await storeWithGarbage();
    store.addFault({ op: 'put', kind: 'error', key: /^volumes\/[^/]+\/backups\/[^/]+\.json$/, nth: 1 });
    await expect(backupVolume({ store, volume: 'w', source: new BufferSource(randomBytes(2 * MiB)) })).rejects.toThrow();
    store.clearFaults();
    store.addFault({ op: 'put', kind: 'drop', key: /^refs\/abandoned\//, nth: 1 });
    await expect(runMaintenance({ store, graceMs: 0 })).rejects.toMatchObject({ code: 'CONVOY_STORE_WRITE_LOST' });
    const pending: string[] = [];
    for await (const o of store.list('refs/pending/w/')) pending.push(o.key);
    expect(pending).toHaveLength(1); // the marker stays until its copy is really there
    store.clearFaults();
    await runMaintenance({ store, full: true, graceMs: 0 });
    expect((await verifyStore({ store, readData: true })).problems).toEqual([]);
  });
});
