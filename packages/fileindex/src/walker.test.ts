import { execFileSync } from 'node:child_process';
import { chmod, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { all, writeIndex } from '../test/helpers.js';
import { statRoot, walkTree } from './walker.js';
import { readXattrs, writeXattr } from './xattr.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convoy-walk-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function xattrsWork(path: string): boolean {
  try {
    writeXattr(path, 'user.convoy.probe', Buffer.from('1'));
    return true;
  } catch {
    return false;
  }
}

describe('walkTree', () => {
  it('lists a tree in tree order with types, modes, times, symlinks, hard links and fifos', async () => {
    await mkdir(join(dir, 'a/x'), { recursive: true });
    await writeFile(join(dir, 'a.txt'), 'hello');
    await writeFile(join(dir, 'a/x/f'), '12345678');
    await chmod(join(dir, 'a/x/f'), 0o4750);
    await utimes(join(dir, 'a/x/f'), 1_700_000_000, 1_700_000_000.5);
    await link(join(dir, 'a/x/f'), join(dir, 'b-hard'));
    await symlink('../a.txt', join(dir, 'a/link'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const got = await all(walkTree(dir, { xattrs: false }));
    expect(got.map((w) => [w.entry.path, w.entry.type])).toEqual([
      ['a', 'dir'],
      ['a/link', 'symlink'],
      ['a/x', 'dir'],
      ['a/x/f', 'file'],
      ['a.txt', 'file'],
      ['b-hard', 'hardlink'],
      ['fifo', 'other'],
    ]);
    const f = got[3]!.entry;
    expect(f).toMatchObject({ mode: 0o4750, size: 8, linked: true, mtimeNs: 1_700_000_000_500_000_000n });
    expect(got[1]!.entry.target).toBe('../a.txt');
    expect(got[5]!.entry).toMatchObject({ link: 'a/x/f', size: 0 });
    expect(got[6]!.entry.kind).toBe('fifo');
    expect(got[4]!.stat).toMatchObject({ path: 'a.txt', size: 5 });
    // what the walker gives (with chunks filled in) is what the index takes
    const entries = got.map((w) =>
      w.entry.type === 'file' ? { ...w.entry, chunks: [{ id: 'a'.repeat(64), size: w.entry.size }] } : w.entry,
    );
    const { reader } = await writeIndex(entries);
    expect(await all(reader.entries())).toEqual(entries);
    expect((await statRoot(dir, { xattrs: false })).mode).toBe(0o700);
  });

  it('reads extended attributes without following symlinks, when the filesystem has them', async () => {
    await writeFile(join(dir, 'f'), 'x');
    if (!xattrsWork(join(dir, 'f'))) return; // e.g. a tmpfs without user xattrs: nothing to check
    writeXattr(join(dir, 'f'), 'user.bin', Buffer.from([0, 255, 7]));
    await symlink('f', join(dir, 'l'));
    const got = await all(walkTree(dir));
    expect(got[0]!.entry.xattrs).toEqual({ 'user.convoy.probe': Buffer.from('1'), 'user.bin': Buffer.from([0, 255, 7]) });
    expect(got[1]!.entry.xattrs).toBeUndefined();
    expect(readXattrs(join(dir, 'l'))).toEqual({});
  });

  it('refuses a name that is not UTF-8, naming where it is', async () => {
    await mkdir(join(dir, 'd'));
    await writeFile(Buffer.concat([Buffer.from(`${dir}/d/bad`), Buffer.from([0xff])]), 'x');
    await expect(all(walkTree(dir))).rejects.toMatchObject({ code: 'CONVOY_SOURCE_UNREADABLE', message: expect.stringContaining('d/bad') });
  });

  it('stops with the abort reason when its signal fires', async () => {
    for (const n of ['a', 'b', 'c']) await writeFile(join(dir, n), n);
    const ac = new AbortController();
    const seen: string[] = [];
    const run = async (): Promise<void> => {
      for await (const w of walkTree(dir, { signal: ac.signal, xattrs: false })) {
        seen.push(w.entry.path);
        ac.abort(new Error('stop'));
      }
    };
    await expect(run()).rejects.toThrow('stop');
    expect(seen).toEqual(['a']);
  });

  it('a directory it cannot read stops the walk with a clear error', async () => {
    await mkdir(join(dir, 'locked'));
    await chmod(join(dir, 'locked'), 0);
    // Root reads everything: walk as nobody (the effective uid only, restored after; vitest runs
    // each test file in its own process, so nothing else runs under it meanwhile).
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      await chmod(dir, 0o755);
      process.seteuid?.(65534);
    }
    try {
      await expect(all(walkTree(dir, { xattrs: false }))).rejects.toMatchObject({
        code: 'CONVOY_SOURCE_UNREADABLE',
        message: expect.stringContaining('locked'),
      });
    } finally {
      if (asRoot) process.seteuid?.(0);
      await chmod(join(dir, 'locked'), 0o700);
    }
  });
});
