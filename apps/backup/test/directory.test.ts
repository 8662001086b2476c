// Directory backups through the CLI: create DIR, ls, restore (all or --path), on a vfs store;
// block images in the same store keep working.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, lastJson, sha256File, tempDir } from './helpers.js';

let dir: string;
let store: string;
let src: string;

beforeAll(async () => {
  dir = await tempDir();
  store = `vfs://${path.join(dir, 'store')}`;
  src = path.join(dir, 'src');
  await fs.mkdir(path.join(src, 'etc/conf.d'), { recursive: true });
  await fs.writeFile(path.join(src, 'etc/hosts'), '127.0.0.1 localhost\n');
  await fs.writeFile(path.join(src, 'etc/conf.d/app.conf'), 'x=1\n', { mode: 0o600 });
  await fs.symlink('hosts', path.join(src, 'etc/hosts.link'));
  await fs.writeFile(path.join(src, 'data.bin'), Buffer.alloc(100_000, 7));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('convoy-backup on a directory', () => {
  it('create detects a directory; ls lists it; restore gives the tree back; --path one file', async () => {
    const created = await cli(['create', src, '--dest', store, '--volume', 'www', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const c = lastJson(created) as { url: string; kind: string; stats: { filesTotal: number; filesRead: number } };
    expect(c).toMatchObject({ kind: 'directory', stats: { filesTotal: 3, filesRead: 3 } });

    const ls = await cli(['ls', c.url, 'etc', '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    const listed = lastJson(ls) as { entries: { path: string; type: string }[] };
    expect(listed.entries.map((e) => `${e.type}:${e.path}`)).toEqual([
      'dir:etc',
      'dir:etc/conf.d',
      'file:etc/conf.d/app.conf',
      'file:etc/hosts',
      'symlink:etc/hosts.link',
    ]);
    const human = await cli(['ls', c.url]);
    expect(human.stdout).toMatch(/lrwxrwxrwx .* etc\/hosts\.link -> hosts/);

    const out = path.join(dir, 'out');
    const restored = await cli(['restore', c.url, out, '--json']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(lastJson(restored)).toMatchObject({ kind: 'directory', files: 3 });
    expect(await sha256File(path.join(out, 'data.bin'))).toBe(await sha256File(path.join(src, 'data.bin')));
    expect(await fs.readlink(path.join(out, 'etc/hosts.link'))).toBe('hosts');
    expect((await fs.stat(path.join(out, 'etc/conf.d/app.conf'))).mode & 0o777).toBe(0o600);

    const one = path.join(dir, 'one');
    const r1 = await cli(['restore', c.url, one, '--path', 'etc/hosts']);
    expect(r1.code, r1.stderr).toBe(0);
    expect(await fs.readdir(one, { recursive: true })).toEqual(['etc', 'etc/hosts']);

    const inspected = await cli(['inspect', c.url]);
    expect(inspected.stdout).toMatch(/kind\s+directory/);

    // an incremental reads nothing unchanged
    const again = await cli(['create', src, '--dest', store, '--volume', 'www', '--json']);
    expect(lastJson(again)).toMatchObject({ parent: c.url.match(/backup=([^&]+)/)?.[1] });
  });

  it('answers clear errors: a path the backup lacks, --path on a block image, --changed on a directory, ls of a block image', async () => {
    const created = await cli(['create', src, '--dest', store, '--volume', 'errs', '--json']);
    const url = (lastJson(created) as { url: string }).url;
    const missing = await cli(['restore', url, path.join(dir, 'missing'), '--path', 'no/such', '--json']);
    expect(missing.code).not.toBe(0);
    expect(lastJson(missing)).toMatchObject({ error: { code: 'CONVOY_BACKUP_PATH_NOT_FOUND' } });

    const img = path.join(dir, 'disk.img');
    await fs.writeFile(img, Buffer.alloc(5000, 1));
    const block = await cli(['create', img, '--dest', store, '--volume', 'img', '--json']);
    expect(block.code, block.stderr).toBe(0);
    const blockUrl = (lastJson(block) as { url: string }).url;
    expect(lastJson(block)).toMatchObject({ kind: 'blocks', volume: 'img' });
    // list says which kind each backup is, with the same fields create printed
    const listed = lastJson(await cli(['list', store, '--json'])) as { volume: string; kind: string; url: string }[];
    expect(listed.filter((e) => e.volume === 'img' || e.volume === 'errs').map((e) => `${e.volume}:${e.kind}`)).toEqual([
      'errs:directory',
      'img:blocks',
    ]);
    expect(listed.find((e) => e.volume === 'img')?.url).toBe(blockUrl);
    const wrongPath = await cli(['restore', blockUrl, path.join(dir, 'img.out'), '--path', 'x', '--json']);
    expect(lastJson(wrongPath)).toMatchObject({ error: { code: 'CONVOY_USAGE' } });
    const lsBlock = await cli(['ls', blockUrl, '--json']);
    expect(lastJson(lsBlock)).toMatchObject({ error: { code: 'CONVOY_BACKUP_INCOMPATIBLE' } });
    const restoredImg = await cli(['restore', blockUrl, path.join(dir, 'img.out')]);
    expect(restoredImg.code, restoredImg.stderr).toBe(0);
    expect(await sha256File(path.join(dir, 'img.out'))).toBe(await sha256File(img));
    const changed = await cli(['create', src, '--dest', store, '--volume', 'errs', '--changed', img, '--json']);
    expect(lastJson(changed)).toMatchObject({ error: { code: 'CONVOY_USAGE' } });
  });
});
