// Encrypted stores through the whole format: backup, incremental, restore, verify, delete and
// maintenance, on the in-memory store and the filesystem driver; keys that fail safely.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore, type ObjectStore } from '@convoy/objectstore';
import { FaultyObjectStore, MemoryObjectStore, rejectionOf } from '@convoy/objectstore/testing';
import {
  addKey,
  blockKey,
  changeKey,
  deleteBackup,
  initStore,
  listKeys,
  readBlockMap,
  readManifest,
  removeKey,
  restoreBackup,
  unlockStore,
  verifyStore,
  type KdfParams,
} from '../src/index.js';
import { MiB, scribble, sha256File, writeMixedImage } from './files.js';
import { backupFile, collectAll, keysUnder } from './helpers.js';

/** Cheap scrypt for tests (the default costs 32 MiB and ~0.1 s per try). */
const FAST: KdfParams = { algorithm: 'scrypt', N: 1024, r: 8, p: 1 };
const PASS = 'correct horse battery staple';
const now = new Date('2026-12-02T06:00:00Z');
const pass = (p: string | undefined) => async (): Promise<string | undefined> => p;

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-enc-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function encryptedStore(inner: ObjectStore, p = PASS): Promise<ObjectStore> {
  await initStore(inner, { compression: 'zstd', now, passphrase: p, kdf: FAST });
  return unlockStore(inner, pass(p));
}

/** Every stored byte of the store, object by object (through the driver, not the decrypting view). */
async function rawObjects(inner: ObjectStore): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const o of inner.list('')) out.set(o.key, await inner.get(o.key));
  return out;
}

describe.each([
  ['memory', async (): Promise<ObjectStore> => new MemoryObjectStore()],
  ['fs', async (): Promise<ObjectStore> => new FsObjectStore(await fs.mkdtemp(path.join(dir, 'store-'))).open()],
])('an encrypted store on %s', (_name, makeStore) => {
  it('backs up, restores bit-exact, and holds no plaintext of the data, its ids or its names', async () => {
    const inner = await makeStore();
    const store = await encryptedStore(inner);
    const img = path.join(dir, `v-${_name}.img`);
    await writeMixedImage(img, 12 * MiB);
    const first = await backupFile({ store, volume: 'secretvol', file: img, snapshot: 'nightly-snap' });
    await scribble(img, [[3 * MiB, 4096]]);
    const second = await backupFile({ store, volume: 'secretvol', file: img, snapshot: 'nightly-snap2' });
    expect(second.manifest.stats.blocksUploaded).toBe(1);

    const target = path.join(dir, `r-${_name}.img`);
    await restoreBackup({ store, volume: 'secretvol', id: second.manifest.id, target });
    expect(await sha256File(target)).toBe(await sha256File(img));
    expect((await verifyStore({ store, readData: true })).ok).toBe(true);

    // No object holds the data, the snapshot name or a sha256 id of any block (ids are keyed).
    const data = await fs.readFile(img);
    const probes = [
      data.subarray(2 * MiB, 2 * MiB + 64),
      data.subarray(9, 73),
      Buffer.from('nightly-snap'),
      Buffer.from('request handled ok'),
    ];
    const plainIds = [...(await readBlockMap(store, await readManifest(store, 'secretvol', first.manifest.id))).ids()];
    const raw = await rawObjects(inner);
    expect(raw.size).toBeGreaterThan(5);
    for (const [key, bytes] of raw) {
      if (key === 'convoy.json' || key.startsWith('keys/')) continue;
      for (const p of probes) expect(bytes.includes(p), `${key} holds plaintext`).toBe(false);
      expect(bytes.subarray(0, 4).toString()).toBe('CVE1');
    }
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256')
      .update(data.subarray(0, 2 * MiB))
      .digest('hex');
    expect([...raw.keys()].some((k) => k.includes(sha))).toBe(false);
    expect(plainIds.every((id) => raw.has(blockKey(id)))).toBe(true);

    // Delete and maintenance free exactly the blocks only the deleted backup used.
    await deleteBackup({ store, volume: 'secretvol', id: first.manifest.id });
    const { blocksDeleted } = await collectAll(store);
    expect(blocksDeleted).toBe(1);
    await restoreBackup({ store, volume: 'secretvol', id: second.manifest.id, target });
    expect(await sha256File(target)).toBe(await sha256File(img));
  });
});

describe('keys', () => {
  it('without a passphrase, or with a wrong one, the store is refused clearly', async () => {
    const inner = new MemoryObjectStore();
    const store = await encryptedStore(inner);
    await backupFile({ store, volume: 'v', file: await smallImage('k1') });
    expect((await rejectionOf(unlockStore(inner, pass(undefined)))).code).toBe('CONVOY_PASSWORD_REQUIRED');
    const wrong = await rejectionOf(unlockStore(inner, pass('wrong')));
    expect(wrong.code).toBe('CONVOY_PASSWORD_WRONG');
    expect(wrong.message).not.toContain('wrong');
    // Handing the store over without unlocking it is refused too, before anything is read.
    expect((await rejectionOf(verifyStore({ store: inner }))).code).toBe('CONVOY_PASSWORD_REQUIRED');
  });

  it('a tampered block is named by verify and refused by restore', async () => {
    const inner = new MemoryObjectStore();
    const store = await encryptedStore(inner);
    const { manifest } = await backupFile({ store, volume: 'v', file: await smallImage('k2') });
    const id = [...(await readBlockMap(store, manifest)).ids()][0] as string;
    const bytes = Buffer.from(inner.peek(blockKey(id)) as Buffer);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0x10;
    inner.corrupt(blockKey(id), bytes);
    const v = await verifyStore({ store, readData: true });
    expect(v.problems).toEqual([expect.objectContaining({ key: blockKey(id), kind: 'corrupt' })]);
    const err = await rejectionOf(restoreBackup({ store, volume: 'v', id: manifest.id, target: path.join(dir, 'tampered.img') }));
    expect(err.code).toBe('CONVOY_BLOCK_CORRUPT');
    expect(err.message).toContain(blockKey(id));
    // A tampered manifest is an error naming it, never "no backup".
    const mk = `volumes/v/backups/${manifest.id}.json`;
    const m = Buffer.from(inner.peek(mk) as Buffer);
    m[50] = (m[50] ?? 0) ^ 1;
    inner.corrupt(mk, m);
    const e2 = await rejectionOf(readManifest(store, 'v', manifest.id));
    expect(e2.code).toBe('CONVOY_OBJECT_TAMPERED');
    expect(e2.message).toContain(mk);
  });

  it('add, change and remove keep every backup restorable; the old passphrase stops working', async () => {
    const inner = new MemoryObjectStore();
    const store = await encryptedStore(inner);
    const img = await smallImage('k3');
    const { manifest } = await backupFile({ store, volume: 'v', file: img });
    const added = await addKey(store, 'second', now);
    const listed = (await listKeys(store)).keys;
    expect(listed).toHaveLength(2);
    expect(listed.filter((k) => k.current).map((k) => k.id)).toEqual([listed.find((k) => k.id !== added.id)!.id]);
    const viaSecond = await unlockStore(inner, pass('second'));
    const changed = await changeKey(viaSecond, 'third', now);
    expect(changed.removed).toBe(added.id);
    expect((await rejectionOf(unlockStore(inner, pass('second')))).code).toBe('CONVOY_PASSWORD_WRONG');
    const viaFirst = await unlockStore(inner, pass(PASS));
    expect((await rejectionOf(removeKey(viaFirst, (await listKeys(viaFirst)).keys.find((k) => k.current)!.id))).code).toBe(
      'CONVOY_KEY_IN_USE',
    );
    expect((await rejectionOf(removeKey(viaFirst, 'ffffffffffffffff'))).code).toBe('CONVOY_KEY_NOT_FOUND');
    await removeKey(viaFirst, changed.added.id);
    expect((await rejectionOf(unlockStore(inner, pass('third')))).code).toBe('CONVOY_PASSWORD_WRONG');
    const target = path.join(dir, 'k3.restored');
    await restoreBackup({ store: await unlockStore(inner, pass(PASS)), volume: 'v', id: manifest.id, target });
    expect(await sha256File(target)).toBe(await sha256File(img));
  });

  it('a key change that fails at any step never locks anyone out', async () => {
    for (const [op, nth] of [
      ['put', 1],
      ['get', 1],
      ['delete', 1],
    ] as const) {
      const mem = new MemoryObjectStore();
      await encryptedStore(mem);
      const faulty = new FaultyObjectStore(mem);
      const store = await unlockStore(faulty, pass(PASS));
      faulty.addFault({ op, nth, kind: 'error', key: /^keys\// });
      await expect(changeKey(store, 'new one', now)).rejects.toThrow();
      // The old passphrase still works; the new one either works or was never written.
      await unlockStore(mem, pass(PASS));
      const keys = (await listKeys(mem)).keys.length;
      expect(keys).toBe(op === 'delete' ? 2 : op === 'get' ? 2 : 1);
    }
  });

  it('init refuses a store that exists already, plain or encrypted', async () => {
    const inner = new MemoryObjectStore();
    await initStore(inner, { compression: 'zstd', now });
    expect((await rejectionOf(initStore(inner, { compression: 'zstd', now, passphrase: PASS, kdf: FAST }))).code).toBe(
      'CONVOY_STORE_EXISTS',
    );
    expect(await keysUnder(inner, 'keys/')).toEqual([]);
    expect(await unlockStore(inner, pass(undefined))).toBe(inner);
  });
});

async function smallImage(name: string): Promise<string> {
  const img = path.join(dir, `${name}.img`);
  await writeMixedImage(img, 6 * MiB);
  return img;
}
