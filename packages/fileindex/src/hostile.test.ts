import { describe, expect, it } from 'vitest';
import { all, craftedIndex, dir, file, wire, writeIndex, ROOT } from '../test/helpers.js';
import { decodeRoot, encodeRoot } from './root.js';
import { FileIndexReader } from './reader.js';

const refused = async (lines: unknown[], code: string, words: string, opts = {}): Promise<void> => {
  const { reader } = craftedIndex(lines, opts);
  const err = await all(reader.entries()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code });
  expect(String((err as Error).message)).toContain(words);
};

describe('a crafted or damaged file index is refused, never read as fewer entries', () => {
  it.each([
    ['/etc/passwd', 'absolute'],
    ['../outside', "'..'"],
    ['a/../../x', "'..'"],
    ['a//b', 'empty component'],
    ['a\u0000b', 'NUL'],
    ['./a', "'.'"],
  ])('an entry at %j (%s)', async (path, words) => {
    await refused([wire({ path })], 'CONVOY_FILEINDEX_UNSAFE_PATH', words);
  });

  it('a hard link that points outside the tree', async () => {
    await refused(
      [wire({ path: 'a', type: 'hardlink', link: '../../etc/shadow', chunks: undefined })],
      'CONVOY_FILEINDEX_UNSAFE_PATH',
      "'..'",
    );
  });

  it('entries out of order, or twice', async () => {
    await refused([wire({ path: 'b' }), wire({ path: 'a' })], 'CONVOY_FILEINDEX_CORRUPT', 'out of order');
    await refused([wire({ path: 'a' }), wire({ path: 'a' })], 'CONVOY_FILEINDEX_CORRUPT', 'out of order');
  });

  it('an entry written through a symlink (its parent is no directory)', async () => {
    await refused(
      [{ path: 'l', type: 'symlink', mode: 511, uid: 0, gid: 0, mtime: '1', size: 0, target: '/etc' }, wire({ path: 'l/passwd' })],
      'CONVOY_FILEINDEX_CORRUPT',
      'parent',
    );
  });

  it('an entry whose directory is missing', async () => {
    await refused([wire({ path: 'x/y' })], 'CONVOY_FILEINDEX_CORRUPT', 'parent');
  });

  it('a hard link to nothing, or to a file not marked linked', async () => {
    await refused(
      [wire({ path: 'a' }), wire({ path: 'b', type: 'hardlink', link: 'a', chunks: undefined })],
      'CONVOY_FILEINDEX_CORRUPT',
      'no linked file',
    );
  });

  it('a file whose chunks do not add up to its size, a bad chunk id, a wrong type', async () => {
    await refused([wire({ path: 'a', size: 10, chunks: [['0'.repeat(64), 9]] })], 'CONVOY_FILEINDEX_CORRUPT', 'add up');
    await refused([wire({ path: 'a', size: 9, chunks: [['XYZ', 9]] })], 'CONVOY_FILEINDEX_CORRUPT', 'hex');
    await refused([wire({ path: 'a', type: 'device' })], 'CONVOY_FILEINDEX_CORRUPT', 'line 2');
    await refused([wire({ path: 'a', type: 'dir' })], 'CONVOY_FILEINDEX_CORRUPT', "no 'chunks'");
  });

  it('a line that is not JSON, or continues nothing', async () => {
    await refused(['{"path": "a", '], 'CONVOY_FILEINDEX_CORRUPT', 'line 2 is not JSON', { first: 'a', last: 'a', entries: 1 });
    await refused([{ more: [['0'.repeat(64), 1]] }], 'CONVOY_FILEINDEX_CORRUPT', 'continues no file entry', {
      first: 'a',
      last: 'a',
      entries: 0,
    });
  });

  it('a segment that does not match its id, is truncated, or holds other entries than the root says', async () => {
    const { reader, segs, ref } = craftedIndex([wire({ path: 'a' }), wire({ path: 'b' })]);
    const good = segs.objects.get(ref.id)!;
    segs.objects.set(ref.id, Buffer.from(good.toString().replace('"b"', '"c"')));
    await expect(all(reader.entries())).rejects.toMatchObject({
      code: 'CONVOY_FILEINDEX_CORRUPT',
      message: expect.stringContaining(ref.id),
    });
    segs.objects.set(ref.id, good.subarray(0, good.length - 3));
    await expect(all(reader.entries())).rejects.toMatchObject({
      code: 'CONVOY_FILEINDEX_CORRUPT',
      message: expect.stringContaining('bytes'),
    });
    await refused([wire({ path: 'a' }), wire({ path: 'b' })], 'CONVOY_FILEINDEX_CORRUPT', 'the index says', { last: 'a' });
  });

  it('a missing segment is an error, not an empty listing', async () => {
    const { reader, segs } = await writeIndex([dir('d'), file('d/a')]);
    segs.objects.clear();
    await expect(reader.lookup('d/a')).rejects.toThrow(/missing/);
  });

  it('a root that is not JSON, lies about counts, or lists segments out of order', async () => {
    const { root } = await writeIndex([dir('d'), ...Array.from({ length: 50 }, (_, i) => file(`d/f${String(i).padStart(3, '0')}`))]);
    expect(() => decodeRoot(Buffer.from('{'), 'k.files')).toThrow(
      expect.objectContaining({ code: 'CONVOY_FILEINDEX_CORRUPT', message: expect.stringContaining('k.files') }),
    );
    expect(() => decodeRoot(encodeRoot({ ...root, entries: root.entries + 1 }), 'k.files')).toThrow(/segments hold/);
    expect(() => decodeRoot(encodeRoot({ ...root, segments: [...root.segments].reverse() }), 'k.files')).toThrow(/out of order/);
    expect(() => decodeRoot(encodeRoot({ ...root, segments: [{ ...root.segments[0]!, first: '../x' }] }), 'k.files')).toThrow(
      expect.objectContaining({ code: 'CONVOY_FILEINDEX_UNSAFE_PATH' }),
    );
    expect(new FileIndexReader(decodeRoot(encodeRoot(root), 'k'), async () => new Uint8Array()).root.root).toEqual(ROOT);
  });

  it('the paths a caller asks for are checked too', async () => {
    const { reader } = await writeIndex([file('a')]);
    await expect(reader.lookup('../a')).rejects.toMatchObject({ code: 'CONVOY_FILEINDEX_UNSAFE_PATH' });
  });
});
