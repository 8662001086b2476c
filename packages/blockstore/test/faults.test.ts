import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultyObjectStore, MemoryObjectStore } from '@convoy/objectstore/testing';
import { deleteBackup, listBackupIds, restoreBackup, verifyStore } from '../src/index.js';
import { MiB, scribble, sha256File, writeMixedImage } from './files.js';
import { backupFile, collectAll, keysUnder } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-faults-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function restoredSha(store: FaultyObjectStore, volume: string, id: string): Promise<string> {
  const out = path.join(dir, `r-${id}`);
  await restoreBackup({ store, volume, id, target: out });
  const sha = await sha256File(out);
  await fs.rm(out);
  return sha;
}

describe('failures during backup', () => {
  for (const kind of ['error', 'lost-ack'] as const) {
    it(`a ${kind} on the 3rd block upload fails the backup; earlier backups stay restorable, verify clean; a retry completes`, async () => {
      const img = path.join(dir, `f-${kind}.img`);
      await writeMixedImage(img, 20 * MiB);
      const store = new FaultyObjectStore(new MemoryObjectStore());
      const first = await backupFile({ store, volume: 'f', file: img });
      const blocksAfterFirst = (await keysUnder(store, 'blocks/')).length;
      const firstSha = await sha256File(img);
      await scribble(img, [
        [0, 10],
        [4 * MiB, 10],
        [8 * MiB, 10],
        [12 * MiB, 10],
        [16 * MiB, 10],
      ]);

      store.addFault({ op: 'put', kind, nth: 3, key: /^blocks\// });
      await expect(backupFile({ store, volume: 'f', file: img })).rejects.toMatchObject({ code: 'CONVOY_TEST_INJECTED_FAULT' });
      expect(await listBackupIds(store, 'f')).toEqual([first.manifest.id]);
      expect(await keysUnder(store, 'locks/')).toEqual([]);
      expect(await restoredSha(store, 'f', first.manifest.id)).toBe(firstSha);
      expect((await verifyStore({ store, readData: true })).problems).toEqual([]);

      const landed = (await keysUnder(store, 'blocks/')).length - blocksAfterFirst;
      expect(landed).toBeGreaterThanOrEqual(kind === 'error' ? 2 : 3); // the puts before the fault (and, for lost-ack, the 3rd itself)
      store.clearFaults();
      const retry = await backupFile({ store, volume: 'f', file: img });
      // blocks that made it up before the failure are not sent again: 5 changed blocks in all
      expect(retry.manifest.stats.blocksUploaded).toBe(5 - landed);
      expect(await restoredSha(store, 'f', retry.manifest.id)).toBe(await sha256File(img));
      expect((await verifyStore({ store, readData: true })).ok).toBe(true);
    });
  }

  it('a failure writing the manifest leaves no backup, and GC later removes what it uploaded', async () => {
    const img = path.join(dir, 'm.img');
    await writeMixedImage(img, 8 * MiB);
    const store = new FaultyObjectStore(new MemoryObjectStore());
    const keep = await backupFile({ store, volume: 'keep', file: img });
    await scribble(img, [[MiB, 100]]);
    store.addFault({ op: 'put', kind: 'error', nth: 1, key: /backups\/.*\.json$/ });
    await expect(backupFile({ store, volume: 'm', file: img })).rejects.toThrow(/injected/);
    expect(await listBackupIds(store, 'm')).toEqual([]);
    expect(await keysUnder(store, 'volumes/m/')).toHaveLength(1); // the orphan block map
    // full maintenance collects the orphan map and the orphan block, nothing else
    const second = await backupFile({ store, volume: 'keep', file: path.join(dir, 'm.img') });
    await deleteBackup({ store, volume: 'keep', id: keep.manifest.id });
    await collectAll(store);
    expect(await keysUnder(store, 'volumes/m/')).toEqual([]);
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);
    expect(await restoredSha(store, 'keep', second.manifest.id)).toBe(await sha256File(img));
  });

  it('a cancelled backup stops, commits nothing and releases its lock', async () => {
    const img = path.join(dir, 'c.img');
    await writeMixedImage(img, 30 * MiB);
    const store = new FaultyObjectStore(new MemoryObjectStore(), [{ op: 'put', kind: 'delay', delayMs: 20, key: /^blocks\// }]);
    const ac = new AbortController();
    const p = backupFile({ store, volume: 'c', file: img, signal: ac.signal, onProgress: (pr) => pr.blocksDone >= 2 && ac.abort() });
    await expect(p).rejects.toThrow();
    expect(await listBackupIds(store, 'c')).toEqual([]);
    expect(await keysUnder(store, 'locks/')).toEqual([]);
    expect((await verifyStore({ store })).ok).toBe(true);
  });

  it('a torn block write on a non-atomic store is caught by verify --read-data', async () => {
    const img = path.join(dir, 't.img');
    await writeMixedImage(img, 6 * MiB);
    const store = new FaultyObjectStore(new MemoryObjectStore(), [{ op: 'put', kind: 'tear', nth: 1, key: /^blocks\// }]);
    await expect(backupFile({ store, volume: 't', file: img })).rejects.toThrow(/injected/);
    store.clearFaults();
    const { manifest } = await backupFile({ store, volume: 't', file: img });
    const v = await verifyStore({ store, readData: true });
    expect(v.problems).toEqual([expect.objectContaining({ kind: 'corrupt', backups: [`t/${manifest.id}`] })]);
  });
});
