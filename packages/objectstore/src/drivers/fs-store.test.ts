import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from './fs-store.js';
import { rejectionOf } from '../testing/rejection.js';


let root: string;
let store: FsObjectStore;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-fs-'));
  store = await new FsObjectStore(path.join(root, 's')).open();
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  }
  return out.sort();
}

describe('FsObjectStore', () => {
  it('stores keys as files under the root and leaves no temporary file behind', async () => {
    await store.put('a/b/c.blk', Buffer.from('x'));
    await store.put('a/b/c.blk', Buffer.from('y'));
    await store.put('once', Buffer.from('z'), { ifAbsent: true });
    await store.put('once', Buffer.from('w'), { ifAbsent: true }).catch(() => undefined);
    expect(await tree(path.join(root, 's'))).toEqual(['a/b/c.blk', 'once']);
  });

  it('ignores temporary files a crashed writer left behind', async () => {
    await store.put('k/obj', Buffer.from('complete'));
    // what a writer killed between write and rename leaves: a partial temp file beside the target
    await fs.writeFile(path.join(root, 's', 'k', '.obj~dead01.tmp'), 'parti');
    await fs.writeFile(path.join(root, 's', 'k', '.new~dead02.tmp'), 'parti');
    const keys: string[] = [];
    for await (const o of store.list('k/')) keys.push(o.key);
    expect(keys).toEqual(['k/obj']);
    expect((await store.get('k/obj')).toString()).toBe('complete');
    expect(await store.stat('k/new')).toBeUndefined();
  });

  it('removes directories that deletes leave empty, but not the root', async () => {
    await store.put('x/y/z/1', Buffer.from('1'));
    await store.put('x/keep', Buffer.from('2'));
    await store.delete(['x/y/z/1']);
    expect(await tree(path.join(root, 's'))).toEqual(['x/keep']);
    await expect(fs.stat(path.join(root, 's', 'x', 'y'))).rejects.toThrow();
    await store.delete(['x/keep']);
    expect((await fs.stat(path.join(root, 's'))).isDirectory()).toBe(true);
  });

  it('survives puts racing with deletes that prune the same directory', async () => {
    for (let round = 0; round < 20; round++) {
      await store.put(`race/d${round}/a`, Buffer.from('a'));
      await Promise.all([store.delete([`race/d${round}/a`]), store.put(`race/d${round}/b`, Buffer.from('b'))]);
      expect((await store.get(`race/d${round}/b`)).toString()).toBe('b');
    }
  });

  it('writes files with mode 0640 (backups are not world-readable)', async () => {
    await store.put('secret/obj', Buffer.from('x'));
    const st = await fs.stat(path.join(root, 's', 'secret', 'obj'));
    expect(st.mode & 0o777 & ~0o640).toBe(0);
  });

  it('does not follow a key out of the root even through odd names', async () => {
    await expect(store.put('..', Buffer.from('x'))).rejects.toThrow(/invalid object key/);
    await expect(store.put('a/../../escape', Buffer.from('x'))).rejects.toThrow(/invalid object key/);
    expect(await fs.readdir(root)).toEqual(['s']);
  });

  it('names the key and the errno when the filesystem refuses a write', async () => {
    await store.put('blocker', Buffer.from('file'));
    // "blocker" is a file, so "blocker/child" cannot be created
    const err = await rejectionOf(store.put('blocker/child', Buffer.from('x')));
    expect(err.code).toBe('CONVOY_OBJECTSTORE_FAILED');
    expect(err.message).toContain('blocker/child');
    expect(err.message).toMatch(/ENOTDIR|EEXIST/);
  });

  it('refuses a relative root', () => {
    expect(() => new FsObjectStore('relative/dir')).toThrow(/absolute/);
  });
});
