import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryObjectStore, rejectionOf } from '@convoy/objectstore/testing';
import { blockKey, readBlockMap, readManifest, restoreBackup, verifyStore } from '../src/index.js';
import { MiB, writeMixedImage } from './files.js';
import { backupFile } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-corrupt-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function setup(): Promise<{ store: MemoryObjectStore; id: string; keys: string[]; target: string }> {
  const img = path.join(dir, 'c.img');
  await writeMixedImage(img, 10 * MiB);
  const store = new MemoryObjectStore();
  const { manifest } = await backupFile({ store, volume: 'c', file: img });
  const keys = [...(await readBlockMap(store, await readManifest(store, 'c', manifest.id))).ids()].map(blockKey);
  return { store, id: manifest.id, keys, target: path.join(dir, `t-${manifest.id}`) };
}

describe('corrupt and missing objects', () => {
  it('a corrupted block: verify --read-data names it, restore fails naming it and leaves no target', async () => {
    const { store, id, keys, target } = await setup();
    const bad = keys[1] as string;
    const bytes = Buffer.from(store.peek(bad) as Buffer);
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0x55;
    store.corrupt(bad, bytes);

    expect((await verifyStore({ store })).ok).toBe(true); // existence check cannot see content damage
    const v = await verifyStore({ store, readData: true });
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([expect.objectContaining({ key: bad, kind: 'corrupt', backups: [`c/${id}`] })]);

    const err = await rejectionOf(restoreBackup({ store, volume: 'c', id, target }));
    expect(err.code).toBe('CONVOY_BLOCK_CORRUPT');
    expect(err.message).toContain(bad);
    await expect(fs.stat(target)).rejects.toThrow(/ENOENT/);
    expect((await fs.readdir(dir)).filter((f) => f.includes('convoy-restore'))).toEqual([]);
  });

  it('a corrupted restore into an existing file keeps the old file', async () => {
    const { store, id, keys, target } = await setup();
    await fs.writeFile(target, 'previous content');
    store.corrupt(keys[0] as string, Buffer.from('garbage'));
    await expect(restoreBackup({ store, volume: 'c', id, target })).rejects.toMatchObject({ code: 'CONVOY_BLOCK_CORRUPT' });
    expect(await fs.readFile(target, 'utf8')).toBe('previous content');
  });

  it('a missing block: verify names it, restore fails naming it', async () => {
    const { store, id, keys, target } = await setup();
    const gone = keys[2] as string;
    await store.delete([gone]);
    const v = await verifyStore({ store });
    expect(v.problems).toEqual([expect.objectContaining({ key: gone, kind: 'missing' })]);
    await expect(restoreBackup({ store, volume: 'c', id, target })).rejects.toMatchObject({
      code: 'CONVOY_BLOCK_MISSING',
      message: expect.stringContaining(gone),
    });
  });

  it('a damaged manifest or block map is reported, naming the object', async () => {
    const { store, id } = await setup();
    const mapKey = `volumes/c/backups/${id}.blocks`;
    const map = Buffer.from(store.peek(mapKey) as Buffer);
    map[map.length - 1] = (map[map.length - 1] ?? 0) ^ 1;
    store.corrupt(mapKey, map);
    const v = await verifyStore({ store });
    expect(v.problems).toEqual([expect.objectContaining({ key: mapKey, kind: 'invalid-manifest' })]);
    store.corrupt(`volumes/c/backups/${id}.json`, Buffer.from('{"format":"convoy-backup-manifest","version":1}'));
    await expect(readManifest(store, 'c', id)).rejects.toMatchObject({
      code: 'CONVOY_MANIFEST_INVALID',
      message: expect.stringContaining(`${id}.json`),
    });
    store.corrupt(`volumes/c/backups/${id}.json`, Buffer.from('{"format":"convoy-backup-manifest","version":9}'));
    await expect(readManifest(store, 'c', id)).rejects.toMatchObject({ code: 'CONVOY_FORMAT_UNSUPPORTED' });
  });

  it('a store header of an unknown version is refused before anything is read or written', async () => {
    const { store, id, target } = await setup();
    store.corrupt(
      'convoy.json',
      Buffer.from(
        JSON.stringify({ format: 'convoy-backupstore', version: 3, blockSize: 2097152, blockId: { algorithm: 'sha256' }, created: 'x' }),
      ),
    );
    await expect(restoreBackup({ store, volume: 'c', id, target })).rejects.toMatchObject({ code: 'CONVOY_FORMAT_UNSUPPORTED' });
    const img = path.join(dir, 'x.img');
    await fs.writeFile(img, 'x');
    const before = store.size;
    await expect(backupFile({ store, volume: 'c', file: img })).rejects.toMatchObject({ code: 'CONVOY_FORMAT_UNSUPPORTED' });
    expect(store.size).toBe(before);
  });
});
