import { describe, expect, it } from 'vitest';
import { file } from '../test/helpers.js';
import type { FileEntry } from './entry.js';
import { FilesCache, unchanged, type FileStat } from './files-cache.js';

const prev = (path: string, over: Partial<FileEntry> = {}): FileEntry =>
  file(path, [5], { mtimeNs: 100n, ctimeNs: 200n, ino: 7n, ...over });
const now = (path: string, over: Partial<FileStat> = {}): FileStat => ({ path, size: 5, mtimeNs: 100n, ctimeNs: 200n, ino: 7n, ...over });

async function* from(entries: FileEntry[]): AsyncGenerator<FileEntry> {
  yield* entries;
}

describe('files cache', () => {
  it('reuses the chunk list of a file whose size, mtime, ctime and inode are unchanged', () => {
    expect(unchanged(prev('a'), now('a'))).toBe(true);
    expect(unchanged(prev('a'), now('a', { size: 6 }))).toBe(false);
    expect(unchanged(prev('a'), now('a', { mtimeNs: 101n }))).toBe(false);
    expect(unchanged(prev('a'), now('a', { ctimeNs: 201n }))).toBe(false);
    expect(unchanged(prev('a'), now('a', { ino: 8n }))).toBe(false);
    expect(unchanged(undefined, now('a'))).toBe(false);
    expect(unchanged({ ...prev('a'), type: 'hardlink', chunks: undefined, link: 'x' } as FileEntry, now('a'))).toBe(false);
  });

  it('ignores ctime and inode when told to (a vfs snapshot is a fresh copy each time)', () => {
    expect(unchanged(prev('a'), now('a', { ctimeNs: 999n, ino: 9n }), { ctime: false, inode: false })).toBe(true);
    expect(unchanged(prev('a'), now('a', { ctimeNs: 999n, ino: 9n, mtimeNs: 1n }), { ctime: false, inode: false })).toBe(false);
  });

  it('does not trust an mtime too close to when the parent backup started (racily clean)', () => {
    expect(
      unchanged(prev('a', { mtimeNs: 5_000_000_000n }), now('a', { mtimeNs: 5_000_000_000n }), { parentStartedNs: 5_500_000_000n }),
    ).toBe(false);
    expect(
      unchanged(prev('a', { mtimeNs: 5_000_000_000n }), now('a', { mtimeNs: 5_000_000_000n }), { parentStartedNs: 7_000_000_000n }),
    ).toBe(true);
  });

  it('walks the parent entries once, alongside the walk, skipping removed and added paths', async () => {
    const parent = [prev('a'), prev('b'), prev('c/x'), prev('d')];
    const cache = new FilesCache(from(parent));
    expect(await cache.chunksFor(now('a'))).toEqual(parent[0]!.chunks);
    expect(await cache.chunksFor(now('aa'))).toBeUndefined(); // added
    expect(await cache.chunksFor(now('c/x', { size: 9 }))).toBeUndefined(); // changed; b removed
    expect(await cache.chunksFor(now('d'))).toEqual(parent[3]!.chunks);
    expect(await cache.chunksFor(now('e'))).toBeUndefined(); // past the parent's end
    expect([cache.hits, cache.misses]).toEqual([2, 3]);
    await expect(cache.chunksFor(now('b'))).rejects.toMatchObject({ code: 'CONVOY_INTERNAL' });
    await cache.close();
  });
});
