import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupDirectory, listDirectory, restoreDirectory } from '../src/index.js';
import { allStores } from './stores.js';
import { allocatedBytes, describeTree, makeTree, MiB } from './tree.js';

let dir: string;
let src: string;
const root = process.geteuid?.() === 0;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-dirbackup-'));
  src = path.join(dir, 'src');
  await makeTree(src);
  if (root) {
    await fs.lchown(path.join(src, 'modes/private'), 1234, 5678);
    await fs.lchown(path.join(src, 'link-abs'), 4321, 8765);
    await fs.lchown(path.join(src, 'empty-dir'), 99, 98);
  }
});
afterAll(async () => {
  await fs.chmod(path.join(src, 'ro-dir'), 0o755).catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
});

describe.each(allStores())('directory backups on $name', (kind) => {
  it('a restore reproduces the tree exactly: content, modes, owners, ns mtimes, symlinks, hard links, fifos, holes', async () => {
    const store = await kind.create();
    const { manifest, stats } = await backupDirectory({ store, volume: 'tree', dir: src });
    expect(manifest.kind).toBe('directory');
    expect(stats.filesRead).toBe(stats.filesTotal);
    // big/copy.bin has big/random.bin's content: its chunks are referenced, not uploaded twice
    expect(stats.blocksUploaded).toBeLessThan(stats.blocksRead);
    const out = path.join(dir, `out-${kind.name.replace(/\W/g, '')}`);
    const r = await restoreDirectory({ store, volume: 'tree', id: manifest.id, target: out });
    expect(r.skipped).toBe(0);
    const want = await describeTree(src);
    const got = await describeTree(out);
    expect(got).toEqual(want);
    expect(got.find((e) => e.path === 'zz-hard-2')).toMatchObject({ type: 'hardlink', link: 'modes/hard-1' });
    expect((await fs.lstat(path.join(out, 'fifo'))).isFIFO()).toBe(true);
    expect(await allocatedBytes(path.join(out, 'sparse.img'))).toBeLessThan(10 * MiB); // 14 MiB long, trailing 6 MiB a hole
    await fs.chmod(path.join(out, 'ro-dir'), 0o755);
    await store.close();
  });

  it('--path restores one file or one subtree under its own path, fetching only its chunks', async () => {
    const store = await kind.create();
    const { manifest } = await backupDirectory({ store, volume: 'tree', dir: src });
    const one = path.join(dir, `one-${kind.name.replace(/\W/g, '')}`);
    const r = await restoreDirectory({ store, volume: 'tree', id: manifest.id, target: one, path: 'small/f003.txt' });
    expect(r).toMatchObject({ entries: 1, files: 1, chunksFetched: 1 });
    expect(await fs.readFile(path.join(one, 'small/f003.txt'), 'utf8')).toBe('file 3\n'.repeat(4));
    expect(await fs.readdir(one)).toEqual(['small']);
    expect(await fs.readdir(path.join(one, 'small'))).toEqual(['f003.txt']);

    const sub = path.join(dir, `sub-${kind.name.replace(/\W/g, '')}`);
    const s = await restoreDirectory({ store, volume: 'tree', id: manifest.id, target: sub, path: 'modes' });
    const want = (await describeTree(src)).filter((e) => e.path === 'modes' || e.path.startsWith('modes/'));
    const got = (await describeTree(sub)).filter((e) => e.path !== '.');
    // modes/hard-1 links to small/f002.txt, which is outside: it is restored as the file itself
    expect(got).toEqual(
      want
        .map((e) =>
          e.path === 'modes/hard-1' ? { ...e, type: 'file', link: undefined, sha: got.find((g) => g.path === 'modes/hard-1')?.sha } : e,
        )
        .map((e) => JSON.parse(JSON.stringify(e)) as typeof e),
    );
    expect(await fs.readFile(path.join(sub, 'modes/hard-1'), 'utf8')).toBe('file 2\n'.repeat(3));
    expect(s.files).toBe(4); // exec, hard-1, private, setgid

    await expect(
      restoreDirectory({
        store,
        volume: 'tree',
        id: manifest.id,
        target: path.join(dir, `nope-${kind.name.replace(/\W/g, '')}`),
        path: 'small/missing',
      }),
    ).rejects.toMatchObject({ code: 'CONVOY_BACKUP_PATH_NOT_FOUND' });
    await expect(
      restoreDirectory({
        store,
        volume: 'tree',
        id: manifest.id,
        target: path.join(dir, `bad-${kind.name.replace(/\W/g, '')}`),
        path: '../etc',
      }),
    ).rejects.toMatchObject({ code: 'CONVOY_FILEINDEX_UNSAFE_PATH' });
    await store.close();
  });

  it('ls lists a path and its subtree from the index alone', async () => {
    const store = await kind.create();
    const { manifest } = await backupDirectory({ store, volume: 'tree', dir: src });
    const { entries } = await listDirectory({ store, volume: 'tree', id: manifest.id, path: 'modes' });
    const paths: string[] = [];
    for await (const e of entries) paths.push(e.path);
    expect(paths).toEqual(['modes', 'modes/exec', 'modes/hard-1', 'modes/link-rel', 'modes/private', 'modes/setgid']);
    await expect(listDirectory({ store, volume: 'tree', id: manifest.id, path: 'nothing/here' })).rejects.toMatchObject({
      code: 'CONVOY_BACKUP_PATH_NOT_FOUND',
    });
    await store.close();
  });

  it('refuses a target that is not empty, and a block image restored as a directory', async () => {
    const store = await kind.create();
    const { manifest } = await backupDirectory({ store, volume: 'tree', dir: src });
    const full = path.join(dir, `full-${kind.name.replace(/\W/g, '')}`);
    await fs.mkdir(full);
    await fs.writeFile(path.join(full, 'x'), 'x');
    await expect(restoreDirectory({ store, volume: 'tree', id: manifest.id, target: full })).rejects.toMatchObject({
      code: 'CONVOY_TARGET_INVALID',
    });
    await store.close();
  });
});
