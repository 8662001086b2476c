// Directory backups into an encrypted store, on fs and radosgw: packs, the file index and range
// reads all go through the envelope; no object holds plaintext; a tampered pack is refused.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockKey, initStore, readBlockMap, unlockStore, verifyStore, EncryptedStore, type KdfParams } from '@convoy/blockstore';
import type { ObjectStore } from '@convoy/objectstore';
import { rejectionOf } from '@convoy/objectstore/testing';
import { backupDirectory, listDirectory, restoreDirectory } from '../src/index.js';
import { allStores } from './stores.js';
import { ageTree, describeTree, MiB, noise } from './tree.js';

const FAST: KdfParams = { algorithm: 'scrypt', N: 1024, r: 8, p: 1 };
const PASS = 'a passphrase';
let dir: string;
let src: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-dir-enc-'));
  src = path.join(dir, 'src');
  await fs.mkdir(path.join(src, 'small'), { recursive: true });
  // Incompressible small files (packed, stored raw inside packs) and one large file (loose chunks).
  for (let i = 0; i < 30; i++) await fs.writeFile(path.join(src, 'small', `secret-name-${i}.bin`), noise(3000 + i * 100, 100 + i));
  await fs.writeFile(path.join(src, 'large.bin'), noise(3 * MiB, 5));
  await ageTree(src);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function rawObjects(store: EncryptedStore): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const o of store.inner.list('')) out.set(o.key, await store.inner.get(o.key));
  return out;
}

describe.each(allStores())('encrypted directory backups on $name', (kind) => {
  it('round-trip, restore one file by range reads, list, and store no plaintext', async () => {
    const inner = await kind.create();
    await initStore(inner, { compression: 'zstd', now: new Date(), passphrase: PASS, kdf: FAST });
    const store = (await unlockStore(inner, async () => PASS)) as EncryptedStore;
    const first = await backupDirectory({ store, volume: 'www', dir: src });
    expect(first.stats.packsWritten).toBeGreaterThan(0);
    await fs.appendFile(path.join(src, 'small', 'secret-name-3.bin'), 'more');
    const second = await backupDirectory({ store, volume: 'www', dir: src });
    expect(second.stats.filesCached).toBe(second.stats.filesTotal - 1);

    const out = path.join(dir, `out-${kind.name.replace(/\W/g, '')}`);
    await restoreDirectory({ store, volume: 'www', id: second.manifest.id, target: out });
    expect(await describeTree(out)).toEqual(await describeTree(src));
    const one = path.join(dir, `one-${kind.name.replace(/\W/g, '')}`);
    await restoreDirectory({ store, volume: 'www', id: second.manifest.id, target: one, path: 'small/secret-name-7.bin' });
    expect((await fs.readFile(path.join(one, 'small/secret-name-7.bin'))).equals(noise(3700, 107))).toBe(true);
    const { entries } = await listDirectory({ store, volume: 'www', id: second.manifest.id });
    const names: string[] = [];
    for await (const e of entries) names.push(e.path);
    expect(names).toContain('small/secret-name-29.bin');
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);

    const probes = [noise(3000, 100).subarray(100, 164), noise(3 * MiB, 5).subarray(MiB, MiB + 64), Buffer.from('secret-name-')];
    const raw = await rawObjects(store);
    for (const [key, bytes] of raw) {
      if (key === 'convoy.json' || key.startsWith('keys/')) continue;
      for (const p of probes) expect(bytes.includes(p), `${key} holds plaintext`).toBe(false);
    }

    // A pack tampered with: the restore of a file in it fails naming the pack, never writes garbage.
    const ids = [...(await readBlockMap(store, second.manifest)).ids()];
    const biggest = ids.map((id) => ({ id, bytes: raw.get(blockKey(id))?.length ?? 0 })).sort((a, b) => b.bytes - a.bytes);
    const pack = biggest.find((b) => b.bytes < 2 * MiB && b.bytes > 50_000);
    expect(pack).toBeDefined();
    const bad = Buffer.from(raw.get(blockKey(pack!.id))!);
    bad[bad.length - 20] = (bad[bad.length - 20] ?? 0) ^ 4;
    await inner.put(blockKey(pack!.id), bad);
    const err = await rejectionOf(
      restoreDirectory({ store, volume: 'www', id: second.manifest.id, target: path.join(dir, `bad-${kind.name.replace(/\W/g, '')}`) }),
    );
    expect(err.code).toBe('CONVOY_BLOCK_CORRUPT');
    expect(err.message).toContain(blockKey(pack!.id));
    await store.close();
  });
});

describe('an encrypted store opened without its key', () => {
  it('is refused before anything is written', async () => {
    const inner: ObjectStore = await allStores()[0]!.create();
    await initStore(inner, { compression: 'zstd', now: new Date(), passphrase: PASS, kdf: FAST });
    const err = await rejectionOf(backupDirectory({ store: inner, volume: 'www', dir: src }));
    expect(err.code).toBe('CONVOY_PASSWORD_REQUIRED');
    const keys: string[] = [];
    for await (const o of inner.list('')) keys.push(o.key);
    expect(keys.filter((k) => !k.startsWith('keys/'))).toEqual(['convoy.json']);
  });
});
