import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockKey, encodeBlock, openOrInitStore, readBlockMap, readManifest, verifyStore } from '@convoy/blockstore';
import { MemoryObjectStore } from '@convoy/objectstore/testing';
import { backupDirectory } from '../src/index.js';
import { noise } from './tree.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-dirbackup-verify-'));
  await fs.writeFile(path.join(dir, 'a.bin'), noise(600_000, 11));
  await fs.writeFile(path.join(dir, 'b.txt'), 'bbb');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('verify covers directory backups', () => {
  it('reads every chunk and index segment with --read-data, and checks the index root', async () => {
    const store = new MemoryObjectStore();
    const { manifest } = await backupDirectory({ store, volume: 'v', dir });
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);
    const ids = [...(await readBlockMap(store, await readManifest(store, 'v', manifest.id))).ids()];
    const r0 = await verifyStore({ store, readData: true });
    expect(r0.blocksChecked).toBe(ids.length);
    expect(ids.length).toBe(4); // a.bin's chunk (loose), the pack holding b.txt's, the index segment, the pack map

    // the pack, its bytes changed in place
    const sizes = await Promise.all(ids.map(async (h) => ({ h, size: (await store.stat(blockKey(h)))!.size })));
    const victim = sizes.filter((x) => x.size < 100_000).sort((a, b) => a.size - b.size)[0]!.h;
    await store.put(blockKey(victim), await encodeBlock('none', Buffer.from('not the original')));
    // and the index root gone
    await store.delete([manifest.files!.key]);
    const r = await verifyStore({ store, readData: true });
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.key, p.kind])).toEqual(
      [
        [blockKey(victim), 'corrupt'],
        [manifest.files!.key, 'missing'],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
    expect(r.problems.every((p) => p.backups.includes(`v/${manifest.id}`))).toBe(true);
  });

  it('a format v1 store is refused with a hint to upgrade, and nothing is written', async () => {
    const store = new MemoryObjectStore();
    await openOrInitStore(store, { compression: 'zstd', now: new Date(), version: 1 });
    await expect(backupDirectory({ store, volume: 'v', dir })).rejects.toMatchObject({
      code: 'CONVOY_FORMAT_UNSUPPORTED',
      hint: expect.stringMatching(/upgrade/),
    });
    const keys: string[] = [];
    for await (const o of store.list('')) keys.push(o.key);
    expect(keys).toEqual(['convoy.json']);
  });
});
