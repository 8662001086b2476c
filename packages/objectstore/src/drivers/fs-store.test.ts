import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { errorCode } from '@convoy/errors';
import { FsObjectStore } from './fs-store.js';
import { isTempName, tempPathFor } from './fs-temp.js';
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
  it('puts into a directory another host pruned after this store wrote there (the directory is made again)', async () => {
    await store.put('blocks/ab/one', Buffer.from('1'));
    await store.put('blocks/ab/two', Buffer.from('2'), { deferred: true });
    await store.flush();
    await fs.rm(path.join(root, 's', 'blocks', 'ab'), { recursive: true }); // another host's delete pruned it
    await store.put('blocks/ab/three', Buffer.from('3'));
    await store.put('blocks/ab/four', Buffer.from('4'), { deferred: true });
    await store.flush();
    expect(await tree(path.join(root, 's', 'blocks'))).toEqual(['ab/four', 'ab/three']);
  });

  it('writes a whole body when the file system takes it in short writes', async () => {
    const fh = await fs.open(root, 'r');
    const proto = Object.getPrototypeOf(fh) as { write(b: Uint8Array, o: number, l: number): Promise<{ bytesWritten: number }> };
    await fh.close();
    const real = proto.write;
    const spy = vi.spyOn(proto, 'write').mockImplementation(function (this: unknown, b: Uint8Array, o: number, l: number) {
      return real.call(this, b, o, Math.min(l, 1000)); // at most 1000 bytes per write(2)
    });
    try {
      const body = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
      await store.put('short', body);
      expect((await store.get('short')).equals(body)).toBe(true);
      expect(spy.mock.calls.length).toBeGreaterThanOrEqual(10);
    } finally {
      spy.mockRestore();
    }
  });

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

  it('a put whose object another writer deletes (pruning its directory) right after the rename still succeeds', async () => {
    // the other host's delete lands between this put's rename and its directory fsync
    const dir = path.join(root, 's', 'refs', 'v');
    const open = fs.open;
    const spy = vi.spyOn(fs, 'open').mockImplementation(async (file, flags, mode) => {
      if (file === dir && typeof flags === 'number' && (flags & constants.O_DIRECTORY) !== 0) await fs.rm(dir, { recursive: true });
      return open(file, flags, mode);
    });
    try {
      await store.put('refs/v/h1.json', Buffer.from('{}'));
    } finally {
      spy.mockRestore();
    }
    expect(await store.stat('refs/v/h1.json')).toBeUndefined();
    // a vanished store root is still a failure
    const gone = new FsObjectStore(path.join(root, 'gone'));
    await gone.open();
    const spy2 = vi.spyOn(fs, 'open').mockImplementation(async (file, flags, mode) => {
      if (typeof flags === 'number' && (flags & constants.O_DIRECTORY) !== 0) await fs.rm(path.join(root, 'gone'), { recursive: true });
      return open(file, flags, mode);
    });
    try {
      expect(errorCode((await rejectionOf(gone.put('a/b.json', Buffer.from('{}')))).cause)).toBe('ENOENT');
    } finally {
      spy2.mockRestore();
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

  describe('cleanupStale', () => {
    const olderThan = new Date('2024-03-01T00:00:00Z');
    const longAgo = new Date('2024-01-01T00:00:00Z');
    async function leftover(file: string, content: string, mtime?: Date): Promise<string> {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, content);
      if (mtime !== undefined) await fs.utimes(file, mtime, mtime);
      return file;
    }
    const exists = (p: string): Promise<boolean> =>
      fs.lstat(p).then(
        () => true,
        () => false,
      );

    it('removes only temporary files last modified before the given time, never objects or fresh writes', async () => {
      const s = path.join(root, 's');
      await store.put('k/obj', Buffer.from('complete'));
      await store.put('k/.looks.tmp', Buffer.from('an object')); // a valid key: no "~"
      const stale = await leftover(path.join(s, 'k', '.obj~0123456789ab.tmp'), 'parti', longAgo);
      const staleDeep = await leftover(path.join(s, 'blocks', 'ab', '.abcd~aaaaaaaaaaaa.tmp'), 'half a block', longAgo);
      const fresh = await leftover(path.join(s, 'k', '.new~ba9876543210.tmp'), 'being written'); // mtime: now
      const atTheLimit = await leftover(path.join(s, 'k', '.lim~bbbbbbbbbbbb.tmp'), 'x', olderThan);
      const notOurs = await leftover(path.join(s, 'k', 'notes~1.tmp'), 'someone else', longAgo);
      const oldObject = path.join(s, 'k', 'obj');
      await fs.utimes(oldObject, longAgo, longAgo);

      expect(await store.cleanupStale({ olderThan })).toEqual({ removed: 2, bytes: 'parti'.length + 'half a block'.length });
      expect([await exists(stale), await exists(staleDeep)]).toEqual([false, false]);
      expect([await exists(fresh), await exists(atTheLimit), await exists(notOurs)]).toEqual([true, true, true]);
      expect((await store.get('k/obj')).toString()).toBe('complete');
      expect((await store.get('k/.looks.tmp')).toString()).toBe('an object');
      expect(await store.cleanupStale({ olderThan })).toEqual({ removed: 0, bytes: 0 });
    });

    it('neither follows nor removes symlinks, even ones named like temporary files', async () => {
      const s = path.join(root, 's');
      const outside = path.join(root, 'outside');
      const victim = await leftover(path.join(outside, '.victim~cccccccccccc.tmp'), 'not the store', longAgo);
      await fs.symlink(outside, path.join(s, 'linked-dir'));
      const link = path.join(s, '.lnk~dddddddddddd.tmp');
      await fs.symlink(victim, link);
      await fs.lutimes(link, longAgo, longAgo);

      expect(await store.cleanupStale({ olderThan })).toEqual({ removed: 0, bytes: 0 });
      expect(await exists(victim)).toBe(true);
      expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
    });

    it('recognises exactly the names put gives its temporary files', () => {
      const tmp = tempPathFor(path.join(root, 's', 'blocks', 'ab', 'abcdef.blk'));
      expect(path.dirname(tmp)).toBe(path.join(root, 's', 'blocks', 'ab'));
      expect(isTempName(path.basename(tmp))).toBe(true);
      for (const name of [
        'abcdef.blk',
        '.abcdef.blk',
        '.x~0123456789ab',
        'x~0123456789ab.tmp',
        '.x~0123456789AB.tmp',
        '.x~012.tmp',
        '.~0123456789ab.tmp',
      ]) {
        expect(isTempName(name), name).toBe(false);
      }
    });

    it('a vanished store directory is a failure, and a cancelled cleanup stops', async () => {
      const ac = new AbortController();
      ac.abort();
      expect(errorCode(await rejectionOf(store.cleanupStale({ olderThan, signal: ac.signal })))).toBe('CONVOY_ABORTED');
      await fs.rm(path.join(root, 's'), { recursive: true });
      const err = await rejectionOf(store.cleanupStale({ olderThan }));
      expect(err.code).toBe('CONVOY_OBJECTSTORE_FAILED');
      expect(err.message).toContain('ENOENT');
    });
  });
});
