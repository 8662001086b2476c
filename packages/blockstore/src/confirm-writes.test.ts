import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FaultyObjectStore, MemoryObjectStore } from '@convoy/objectstore/testing';
import { backupVolume } from './backup.js';
import { listBackupIds } from './list.js';
import { runMaintenance } from './maintenance/maintenance.js';
import { restoreBackup } from './restore.js';
import { BufferSource, MiB, tempDir } from './test-helpers.js';
import { verifyStore } from './verify.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function restoredSha(store: FaultyObjectStore, volume: string, id: string): Promise<string> {
  const dir = await tempDir('convoy-confirm-');
  const target = path.join(dir, 'out.img');
  await restoreBackup({ store, volume, id, target });
  const out = sha(await fs.readFile(target));
  await fs.rm(dir, { recursive: true });
  return out;
}

// A lying server (a PUT answered 200 and never stored): the backup must not report success with
// an object missing. Each object a backup writes is checked with a HEAD before the manifest is
// committed, and the manifest after.
describe('a write the store acknowledged but did not keep fails the backup (CONVOY_STORE_WRITE_LOST)', () => {
  it.each([
    ['a block', /^blocks\//, 1, 'blocks/'],
    ['the add marker', /^refs\/pending\//, 1, 'refs/pending/v/'],
    ['the block map (written twice)', /\.blocks$/, 2, '.blocks'],
    ['the manifest', /^volumes\/[^/]+\/backups\/[^/]+\.json$/, 1, '.json'],
  ])('%s: the backup fails naming it, commits nothing, and a re-run succeeds', async (_what, key, times, names) => {
    const store = new FaultyObjectStore(new MemoryObjectStore());
    const data = randomBytes(6 * MiB + 4096);
    store.addFault({ op: 'put', kind: 'drop', key, nth: 1, times });
    const err = await backupVolume({ store, volume: 'v', source: new BufferSource(data) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONVOY_STORE_WRITE_LOST' });
    expect((err as Error).message).toContain(names);
    expect(await listBackupIds(store, 'v')).toEqual([]);
    expect((await verifyStore({ store, readData: true })).problems).toEqual([]);

    store.clearFaults();
    const { manifest } = await backupVolume({ store, volume: 'v', source: new BufferSource(data) });
    expect(await restoredSha(store, 'v', manifest.id)).toBe(sha(data));
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);
  });

  it('a lost add marker can no longer become a committed backup whose blocks full maintenance sweeps', async () => {
    const store = new FaultyObjectStore(new MemoryObjectStore());
    const data = randomBytes(4 * MiB);
    store.addFault({ op: 'put', kind: 'drop', key: /^refs\/pending\/.*\.add$/, nth: 1 });
    await backupVolume({ store, volume: 'v', source: new BufferSource(data) }).catch(() => undefined);
    for (let i = 0; i < 2; i++) await runMaintenance({ store, full: true, graceMs: 0 });
    // Whatever the backup reported, every backup the store lists is whole.
    const v = await verifyStore({ store, readData: true });
    expect(v.problems).toEqual([]);
    for (const id of await listBackupIds(store, 'v')) expect(await restoredSha(store, 'v', id)).toBe(sha(data));
  });

  it('costs one HEAD per uploaded block, plus the marker, the block map and the manifest', async () => {
    const store = new FaultyObjectStore(new MemoryObjectStore());
    const data = Buffer.concat([randomBytes(4 * MiB), Buffer.alloc(2 * MiB), randomBytes(2 * MiB)]);
    await backupVolume({ store, volume: 'v', source: new BufferSource(data) });
    const first = { ...store.calls };
    store.resetCounts();
    // The same data again: nothing uploaded, so only the marker, map and manifest are confirmed.
    await backupVolume({ store, volume: 'v', source: new BufferSource(data), parent: null });
    const again = { ...store.calls };
    expect(first.stat - again.stat).toBe(3); // the 3 uploaded blocks of the first backup
  });
});
