// Crafted file indexes, written into a store as an attacker with write access to it would (every
// checksum right): a restore refuses them and writes nothing outside its target.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockKey, encodeBlock, readManifest } from '@convoy/blockstore';
import { encodeRoot, segmentId } from '@convoy/fileindex';
import { MemoryObjectStore } from '@convoy/objectstore/testing';
import type { ObjectStore } from '@convoy/objectstore';
import { backupDirectory, restoreDirectory } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-dirbackup-hostile-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const meta = { mode: 0o644, uid: 0, gid: 0, mtime: '1700000000000000000', size: 0 };

/** Replaces a real backup's file index by one segment of these lines (first/last as given). */
async function plant(store: ObjectStore, volume: string, id: string, lines: object[], first: string, last: string): Promise<void> {
  const seg = Buffer.from([{ format: 'convoy-file-index-segment', version: 1 }, ...lines].map((l) => `${JSON.stringify(l)}\n`).join(''));
  await store.put(blockKey(segmentId(seg)), await encodeBlock('none', seg));
  const root = encodeRoot({
    entries: lines.length,
    bytes: 0,
    root: { mode: 0o755, uid: 0, gid: 0, mtimeNs: 1_700_000_000_000_000_000n },
    segments: [{ id: segmentId(seg), bytes: seg.length, entries: lines.length, first, last }],
  });
  const m = await readManifest(store, volume, id);
  const key = m.files!.key;
  await store.put(key, root);
  await store.put(
    `volumes/${volume}/backups/${id}.json`,
    Buffer.from(JSON.stringify({ ...m, files: { ...m.files, sha256: sha(root), bytes: root.length, entries: lines.length } })),
  );
}

const file = (p: string, data: string): object => {
  const hex = sha(Buffer.from(data));
  return { ...meta, path: p, type: 'file', size: data.length, chunks: [[hex, data.length]] };
};

describe('hostile file indexes', () => {
  const cases: { name: string; lines: object[]; first: string; last: string }[] = [
    { name: 'a path with ..', lines: [file('../escaped', 'pwned')], first: '../escaped', last: '../escaped' },
    {
      name: 'a .. hidden in the segment, the root naming safe paths',
      lines: [{ ...meta, path: 'a', type: 'dir', mode: 0o755 }, file('a/../../escaped', 'pwned')],
      first: 'a',
      last: 'a/z',
    },
    { name: 'an absolute path', lines: [file('/tmp/escaped', 'pwned')], first: 'a', last: 'b' },
    {
      name: 'a file under a symlink to outside',
      lines: [{ ...meta, path: 'd', type: 'symlink', mode: 0o777, target: '__OUT__' }, file('d/escaped', 'pwned')],
      first: 'd',
      last: 'd/escaped',
    },
    {
      name: 'a hard link to a path outside',
      lines: [{ ...meta, path: 'h', type: 'hardlink', link: '../outside/victim' }],
      first: 'h',
      last: 'h',
    },
    {
      name: 'a directory under a symlink',
      lines: [
        { ...meta, path: 'd', type: 'symlink', mode: 0o777, target: '__OUT__' },
        { ...meta, path: 'd/sub', type: 'dir', mode: 0o755 },
        file('d/sub/escaped', 'pwned'),
      ],
      first: 'd',
      last: 'd/sub/escaped',
    },
  ];
  it.each(cases)('refuses $name and writes nothing outside the target', async ({ name, lines, first, last }) => {
    const base = path.join(dir, name.replace(/\W+/g, '-'));
    const outside = path.join(base, 'outside');
    const target = path.join(base, 'target', 'inner');
    const src = path.join(base, 'src');
    await fs.mkdir(outside, { recursive: true });
    await fs.mkdir(path.dirname(target));
    await fs.writeFile(path.join(outside, 'victim'), 'victim');
    await fs.mkdir(src);
    await fs.writeFile(path.join(src, 'a'), 'pwned');
    const store = new MemoryObjectStore();
    const { manifest } = await backupDirectory({ store, volume: 'v', dir: src }); // puts the 'pwned' chunk there
    const withOut = JSON.parse(JSON.stringify(lines).replaceAll('__OUT__', outside)) as object[];
    await plant(store, 'v', manifest.id, withOut, first, last);
    const err = await restoreDirectory({ store, volume: 'v', id: manifest.id, target }).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(['CONVOY_FILEINDEX_UNSAFE_PATH', 'CONVOY_FILEINDEX_CORRUPT']).toContain(err?.code);
    expect((await fs.readdir(outside)).sort()).toEqual(['victim']);
    expect(await fs.readFile(path.join(outside, 'victim'), 'utf8')).toBe('victim');
    expect(await fs.readdir(path.join(base, 'target'))).toEqual([]); // no partial tree, no temporary directory
    expect(await fs.readdir(base)).toEqual(expect.arrayContaining(['outside', 'src', 'target']));
    expect((await fs.readdir(base)).length).toBe(3);
  });
});
