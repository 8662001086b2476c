import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '@convoy/objectstore/testing';
import {
  blockKey,
  deleteBackup,
  listBackupIds,
  readBlockMap,
  readManifest,
  readVolumeRecord,
  restoreBackup,
  verifyStore,
} from '../src/index.js';
import { MiB, scribble, sha256File, writeMixedImage } from './files.js';
import { backupFile, collectAll, keysUnder } from './helpers.js';
import { allStores } from './stores.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-gc-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe.each(allStores())('delete and GC on $name', (kind) => {
  it('deleting any backup of a chain keeps the others restorable and removes only unreferenced blocks', async () => {
    const store = await kind.create();
    const img = path.join(dir, `${kind.name.replace(/\W/g, '')}.img`);
    await writeMixedImage(img, 12 * MiB);
    const states: { id: string; sha: string }[] = [];
    for (let i = 0; i < 4; i++) {
      // backup 1 changes block 1; backup 2 block 2; backup 3 block 2 again and block 3
      if (i > 0)
        await scribble(
          img,
          i === 3
            ? [
                [2 * 2 * MiB + 9, 100],
                [3 * 2 * MiB + 7, 100],
              ]
            : [[i * 2 * MiB + 7, 100]],
        );
      const { manifest } = await backupFile({ store, volume: 'gc', file: img });
      states.push({ id: manifest.id, sha: await sha256File(img) });
    }
    const blocksOf = async (id: string): Promise<Set<string>> =>
      new Set((await readBlockMap(store, await readManifest(store, 'gc', id))).ids());
    const before = await keysUnder(store, 'blocks/');

    // delete a backup in the middle of the chain
    const victim = states[2] as { id: string; sha: string };
    const victimBlocks = await blocksOf(victim.id);
    const others = new Set<string>();
    for (const s of states) if (s !== victim) for (const b of await blocksOf(s.id)) others.add(b);
    const unique = [...victimBlocks].filter((b) => !others.has(b));
    expect(unique.length).toBe(1); // the block changed in backup 2 and again in backup 3

    const del = await deleteBackup({ store, volume: 'gc', id: victim.id });
    expect(del).toMatchObject({ collectedBy: 'maintenance', alreadyDeleted: false });
    expect(await keysUnder(store, 'blocks/')).toEqual(before); // delete is O(1): maintenance frees
    const gc = await collectAll(store);
    expect(gc.blocksDeleted).toBe(1);
    const after = await keysUnder(store, 'blocks/');
    expect(after).toEqual(before.filter((k) => k !== blockKey(unique[0] as string)));
    expect(await keysUnder(store, `volumes/gc/backups/${victim.id}`)).toEqual([]);
    expect(await listBackupIds(store, 'gc')).toEqual(states.filter((s) => s !== victim).map((s) => s.id));

    for (const s of states.filter((x) => x !== victim)) {
      const out = path.join(dir, `out-${s.id}`);
      await restoreBackup({ store, volume: 'gc', id: s.id, target: out });
      expect(await sha256File(out)).toBe(s.sha);
      await fs.rm(out);
    }
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);

    // the volume record follows the newest remaining backup; deleting all leaves no block behind
    await deleteBackup({ store, volume: 'gc', id: (states[3] as { id: string }).id });
    expect((await readVolumeRecord(store, 'gc'))?.lastBackup?.id).toBe((states[1] as { id: string }).id);
    for (const s of [states[0], states[1]]) await deleteBackup({ store, volume: 'gc', id: (s as { id: string }).id });
    await collectAll(store);
    expect(await keysUnder(store, 'blocks/')).toEqual([]);
    expect(await keysUnder(store, 'volumes/')).toEqual([]);
    expect(await keysUnder(store, 'refs/pending/')).toEqual([]);
    expect(await keysUnder(store, 'locks/')).toEqual([]);
    await store.close();
  });

  it('keeps blocks shared with another volume', async () => {
    const store = await kind.create();
    const img = path.join(dir, `shared-${kind.name.replace(/\W/g, '')}.img`);
    await writeMixedImage(img, 6 * MiB);
    const a = await backupFile({ store, volume: 'a', file: img });
    await backupFile({ store, volume: 'b', file: img });
    const blocks = await keysUnder(store, 'blocks/');
    await deleteBackup({ store, volume: 'a', id: a.manifest.id });
    await collectAll(store);
    expect(await keysUnder(store, 'blocks/')).toEqual(blocks);
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);
    await store.close();
  });

  it('deleting a backup that does not exist is a clear error', async () => {
    const store = await kind.create();
    const img = path.join(dir, `nx-${kind.name.replace(/\W/g, '')}.img`);
    await fs.writeFile(img, 'x');
    await backupFile({ store, volume: 'nx', file: img });
    await expect(deleteBackup({ store, volume: 'nx', id: '20200101T000000000Z-000000' })).rejects.toMatchObject({
      code: 'CONVOY_BACKUP_NOT_FOUND',
    });
    await store.close();
  });
});

describe('the volume record', () => {
  it('a damaged one is an error when read, and the next backup rewrites it from the manifests', async () => {
    const store = new MemoryObjectStore();
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-volrec-'));
    try {
      const img = path.join(tmp, 'a.img');
      await fs.writeFile(img, Buffer.alloc(4096, 7));
      await backupFile({ store, volume: 'vr', file: img });
      await store.put('volumes/vr/volume.json', Buffer.from('{"name":'));
      await expect(readVolumeRecord(store, 'vr')).rejects.toMatchObject({
        code: 'CONVOY_MANIFEST_INVALID',
        message: expect.stringContaining('volumes/vr/volume.json'),
      });
      const second = await backupFile({ store, volume: 'vr', file: img });
      expect((await readVolumeRecord(store, 'vr'))?.lastBackup?.id).toBe(second.manifest.id);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });
});
