// Deferred puts of the fs store: invisible and not fsynced until a flush makes them durable and
// visible together; dropped at close; flushed by the put that fills a batch.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FsObjectStore } from './fs-store.js';
import { DeferredPuts } from './fs-deferred.js';
import { isTempName, tempPathFor } from './fs-temp.js';

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-fs-deferred-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await fs.rm(root, { recursive: true, force: true });
});

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  }
  return out.sort();
}

/** Spies on FileHandle#sync (fs/promises does not export the class: its prototype is taken from an open handle). */
async function spyOnSync(): Promise<ReturnType<typeof vi.spyOn>> {
  const fh = await fs.open(root, 'r');
  const proto = Object.getPrototypeOf(fh) as { sync(): Promise<void> };
  await fh.close();
  return vi.spyOn(proto, 'sync');
}

async function keys(store: FsObjectStore, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.key);
  return out.sort();
}

describe('FsObjectStore deferred puts', () => {
  it('are invisible until flush, then all there with their bytes; a plain put is visible at once', async () => {
    const store = await new FsObjectStore(path.join(root, 's')).open();
    await store.put('blocks/aa/one', Buffer.from('first'), { deferred: true });
    await store.put('blocks/bb/two', Buffer.from('second'), { deferred: true });
    await store.put('plain', Buffer.from('now'));
    expect(await store.stat('blocks/aa/one')).toBeUndefined();
    expect(await keys(store)).toEqual(['plain']);
    // on disk only as temporary files, which no listing or key can name
    expect((await files(path.join(root, 's', 'blocks'))).map((f) => isTempName(path.basename(f)))).toEqual([true, true]);

    const sync = await spyOnSync();
    await store.flush();
    // one fsync per object and one per directory, all at the flush
    expect(sync).toHaveBeenCalledTimes(2 + 2);
    expect(await keys(store)).toEqual(['blocks/aa/one', 'blocks/bb/two', 'plain']);
    expect((await store.get('blocks/bb/two')).toString()).toBe('second');
    expect(await files(path.join(root, 's', 'blocks'))).toEqual(['aa/one', 'bb/two']);
    await store.flush(); // nothing pending: nothing to do
    await store.close();
  });

  it('never fsync during the put itself', async () => {
    const store = await new FsObjectStore(path.join(root, 's')).open();
    const sync = await spyOnSync();
    await store.put('k/deferred', Buffer.alloc(1000, 1), { deferred: true });
    expect(sync).not.toHaveBeenCalled();
    await store.put('k/plain', Buffer.alloc(1000, 2));
    expect(sync).toHaveBeenCalledTimes(2); // the file and its directory
    await store.close();
  });

  it('an only-if-absent put is never deferred', async () => {
    const store = await new FsObjectStore(path.join(root, 's')).open();
    await store.put('m', Buffer.from('x'), { ifAbsent: true, deferred: true });
    expect((await store.get('m')).toString()).toBe('x');
    await store.close();
  });

  it('close drops what was never flushed: no object, no temporary file', async () => {
    const store = await new FsObjectStore(path.join(root, 's')).open();
    await store.put('blocks/aa/lost', Buffer.from('never flushed'), { deferred: true });
    await store.close();
    expect(await files(path.join(root, 's'))).toEqual([]);
  });

  it('the put that fills a batch flushes it, and a flush waits for one already running', async () => {
    const dir = path.join(root, 'd');
    await fs.mkdir(dir);
    const puts = new DeferredPuts(3);
    const write = async (name: string): Promise<string> => {
      const file = path.join(dir, name);
      const tmp = tempPathFor(file);
      await fs.writeFile(tmp, name);
      await puts.add(tmp, file);
      return file;
    };
    await write('a');
    await write('b');
    expect(await fs.readdir(dir).then((l) => l.filter((n) => !isTempName(n)))).toEqual([]);
    await write('c'); // the third: flushed before it answers
    expect((await fs.readdir(dir)).sort()).toEqual(['a', 'b', 'c']);
    expect(puts.size).toBe(0);
    await write('d');
    await puts.flush();
    expect((await fs.readdir(dir)).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a temporary file gone before the flush (swept) fails the flush, naming the store', async () => {
    const store = await new FsObjectStore(path.join(root, 's')).open();
    await store.put('blocks/aa/x', Buffer.from('x'), { deferred: true });
    for (const f of await files(path.join(root, 's'))) await fs.rm(path.join(root, 's', f));
    await expect(store.flush()).rejects.toMatchObject({
      message: expect.stringMatching(/cannot make deferred writes durable at vfs:\/\/.*ENOENT/),
    });
    await store.close();
  });
});
