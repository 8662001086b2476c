import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { all, dir, file, hex, writeIndex, TINY } from '../test/helpers.js';
import { CHUNKS_PER_LINE, type FileEntry } from './entry.js';
import { comparePaths, isWithin } from './paths.js';
import { DEFAULT_SEGMENT_PARAMS, FileIndexWriter } from './writer.js';
import { ROOT } from '../test/helpers.js';

/** A random tree: directories d0..d3 (nested up to 2 deep) with files, symlinks and a hard link. */
const tree = fc
  .uniqueArray(
    fc.tuple(
      fc.constantFrom('', 'd0', 'd1', 'd1/e', 'd2'),
      fc.stringMatching(/^[a-z.-]{1,6}$/),
      fc.array(fc.integer({ min: 1, max: 9000 }), { maxLength: 4 }),
    ),
    {
      selector: ([d, n]) => `${d}/${n}`,
      maxLength: 60,
    },
  )
  .map((files) => {
    const entries: FileEntry[] = ['d0', 'd1', 'd1/e', 'd2'].map(dir);
    for (const [d, n, sizes] of files) {
      if (n === '.' || n === '..' || (d === '' && ['d0', 'd1', 'd2'].includes(n)) || (d === 'd1' && n === 'e')) continue;
      const path = d === '' ? n : `${d}/${n}`;
      entries.push(
        sizes.length === 0
          ? { path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtimeNs: 5n, size: 0, target: '../x' }
          : file(path, sizes),
      );
    }
    return entries.sort((a, b) => comparePaths(a.path, b.path));
  });

describe('file index: write then read', () => {
  it('gives back every entry, in order, and lists any subtree alone', async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.constantFrom('d1', 'd1/e', 'd0', 'nothing', 'd2'), async (entries, prefix) => {
        const { reader, root } = await writeIndex(entries);
        expect(await all(reader.entries())).toEqual(entries);
        expect(root.entries).toBe(entries.length);
        expect(await all(reader.list(prefix))).toEqual(entries.filter((e) => isWithin(e.path, prefix)));
        for (const e of entries.slice(0, 5)) expect(await reader.lookup(e.path)).toEqual(e);
        expect(await reader.lookup('d1/zzzz-not-there')).toBeUndefined();
      }),
      { numRuns: 60 },
    );
  });

  it('a lookup reads only the segments that can hold the path', async () => {
    const entries = [dir('d'), ...Array.from({ length: 400 }, (_, i) => file(`d/f${String(i).padStart(4, '0')}`))];
    const { reader, root, segs } = await writeIndex(entries);
    expect(root.segments.length).toBeGreaterThan(20);
    segs.reads = 0;
    expect((await reader.lookup('d/f0321'))?.path).toBe('d/f0321');
    expect(segs.reads).toBeLessThanOrEqual(2);
  });

  it('a file with more chunks than a line holds continues on later lines and segments', async () => {
    const sizes = Array.from({ length: 2 * CHUNKS_PER_LINE + 10 }, (_, i) => 1 + (i % 7));
    const entries = [file('a'), file('big', sizes), file('c')];
    const { reader, root } = await writeIndex(entries);
    expect(root.segments.some((s) => s.continued)).toBe(true);
    expect(await all(reader.entries())).toEqual(entries);
    expect((await reader.lookup('big'))?.chunks).toHaveLength(sizes.length);
    expect(await reader.lookup('c')).toEqual(entries[2]);
  });

  it('segments are content-defined: changing one file leaves most segments as they were', async () => {
    const names = Array.from({ length: 3000 }, (_, i) => `f${String(i).padStart(5, '0')}`);
    const before = names.map((n) => file(n));
    const after = names.map((n, i) => (i === 1500 ? file(n, [6]) : i === 2000 ? null : file(n))).filter((e): e is FileEntry => e !== null);
    after.splice(700, 0, file('f00699a'));
    const params = { ...DEFAULT_SEGMENT_PARAMS, minBytes: 8 * 1024, maxBytes: 64 * 1024, cutBits: 5 };
    const a = await writeIndex(before, params);
    const b = await writeIndex(after, params);
    const old = new Set(a.root.segments.map((s) => s.id));
    const fresh = b.root.segments.filter((s) => !old.has(s.id));
    expect(a.root.segments.length).toBeGreaterThan(10);
    expect(fresh.length).toBeLessThanOrEqual(6);
  });

  it('the writer refuses what a reader would refuse', async () => {
    const w = new FileIndexWriter({ root: ROOT, params: TINY, store: async () => {} });
    await w.add(dir('d'));
    await expect(w.add(file('a'))).rejects.toMatchObject({ code: 'CONVOY_INTERNAL' }); // out of order
    await expect(w.add(file('d/../x'))).rejects.toMatchObject({ code: 'CONVOY_INTERNAL' });
    await expect(w.add(file('e/x'))).rejects.toMatchObject({ code: 'CONVOY_INTERNAL' }); // no parent
    await expect(w.add({ ...file('d/x'), size: 99 })).rejects.toMatchObject({ code: 'CONVOY_INTERNAL' });
    await expect(
      w.add({ path: 'd/h', type: 'hardlink', link: 'd/x', mode: 0, uid: 0, gid: 0, mtimeNs: 0n, size: 0 }),
    ).rejects.toMatchObject({
      code: 'CONVOY_INTERNAL',
    });
    await w.add(file('d/x', [3], { linked: true }));
    await w.add({ path: 'd/y', type: 'hardlink', link: 'd/x', mode: 0, uid: 0, gid: 0, mtimeNs: 0n, size: 0 });
    await w.add({
      path: 'dev',
      type: 'other',
      kind: 'char',
      rdev: 259,
      mode: 0o600,
      uid: 0,
      gid: 0,
      mtimeNs: 0n,
      size: 0,
      xattrs: { 'user.k': Buffer.from([0, 1, 255]) },
    });
    const { root } = await w.finish();
    expect(root.entries).toBe(4);
    expect(root.bytes).toBe(3);
  });

  it('keeps xattrs, nanosecond times, inode numbers above 2^53 and hard links', async () => {
    const entries: FileEntry[] = [
      file('a', [1], {
        linked: true,
        ino: 18446744073709551615n,
        ctimeNs: -5n,
        xattrs: { 'user.x': Buffer.from('v'), 'security.selinux': Buffer.from('ctx\0') },
      }),
      { path: 'b', type: 'hardlink', link: 'a', mode: 0o644, uid: 1, gid: 1, mtimeNs: 1_700_000_000_999_999_999n, size: 0 },
    ];
    const { reader } = await writeIndex(entries);
    const got = await all(reader.entries());
    expect(got).toEqual(entries);
    expect((await reader.resolveLink(got[1]!)).path).toBe('a');
    expect(hex(1)).toHaveLength(64);
  });
});
