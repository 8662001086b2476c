// convoy-backup on a backup store made by the original Rancher Convoy v0.5.2 binary (its vfs
// driver): `list` shows Convoy's backups, `restore` of the URL exactly as Convoy printed it (with
// \u0026) gives back the volume's tree bit for bit, modes and symlinks included; a deltablock
// (devicemapper) store restores into a file.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELTABLOCK_SIZE, deltablockChecksum } from '@convoy/dirbackup';
import { makeRancherStore, readTree, type RancherStore } from '../../../tools/vitest/rancher-convoy.js';
import { cli, lastJson, tempDir } from './helpers.js';

let work: string;
let rs: RancherStore;

beforeAll(async () => {
  work = await tempDir('convoy-backup-rancher-');
  rs = await makeRancherStore(work);
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('convoy-backup on a Rancher Convoy v0.5.2 vfs store', () => {
  it('lists its backups, marked as Convoy v0.5.2 backups, with volume, name, time, size and snapshot', async () => {
    const r = await cli(['list', `vfs://${rs.storeDir}`, '--json']);
    expect(r.code).toBe(0);
    const entries = lastJson<Record<string, unknown>[]>(r);
    expect(entries).toHaveLength(rs.volumes.length);
    for (const v of rs.volumes) {
      const e = entries.find((x) => x.volume === v.name);
      const bakDir = path.join(
        rs.storeDir,
        'convoy-objectstore/volumes',
        v.name.padEnd(4, '!').slice(0, 2),
        v.name.padEnd(4, '!').slice(2, 4),
      );
      const bak = path.join(bakDir, v.name.padEnd(4, '!'), 'BackupFiles', `${v.backup}.bak`);
      expect(e).toMatchObject({
        id: v.backup,
        format: 'rancher-convoy-v0.5.2',
        kind: 'directory',
        driver: 'vfs',
        snapshot: v.snapshot,
        size: (await fs.stat(bak)).size,
        url: `vfs://${rs.storeDir}?backup=${v.backup}&volume=${v.name}`,
      });
      expect(Math.abs(Date.parse(String(e?.created)) - Date.now())).toBeLessThan(10 * 60_000);
    }
    const table = await cli(['list', `vfs://${rs.storeDir}`, '--volume', 'vol1']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('Rancher Convoy v0.5.2 vfs');
    expect(table.stdout).not.toContain(' ab ');
  });

  it('restores the URL exactly as Convoy printed it (\\u0026) bit for bit: content, modes, subdirectories, symlinks', async () => {
    const v = rs.volumes.find((x) => x.name === 'vol1')!;
    expect(v.url).toContain('\\u0026');
    const target = path.join(work, 'restored-vol1');
    const r = await cli(['restore', v.url, target, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({ volume: 'vol1', id: v.backup, format: 'rancher-convoy-v0.5.2' });
    expect(await readTree(target)).toEqual(await readTree(v.dir));
    expect(await fs.readlink(path.join(target, 'sub', 'link-to-hello'))).toBe('../hello.txt');
    expect((await fs.stat(path.join(target, 'run.sh'))).mode & 0o777).toBe(0o755);
  });

  it('restores the & form of the URL too, for a volume whose name Convoy pads with "!" in its store', async () => {
    const v = rs.volumes.find((x) => x.name === 'ab')!;
    const target = path.join(work, 'restored-ab');
    await fs.mkdir(target);
    const r = await cli(['restore', v.url.replace('\\u0026', '&'), target]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readTree(target)).toEqual(await readTree(v.dir));
  });

  it('refuses a non-empty target and a backup the store does not hold, writing nothing', async () => {
    const v = rs.volumes[0]!;
    const full = path.join(work, 'not-empty');
    await fs.mkdir(full);
    await fs.writeFile(path.join(full, 'x'), 'x');
    const r1 = await cli(['restore', v.url, full, '--json']);
    expect(r1.code).not.toBe(0);
    expect(lastJson(r1)).toMatchObject({ error: { code: 'CONVOY_TARGET_INVALID' } });
    expect(await fs.readdir(full)).toEqual(['x']);
    const r2 = await cli(['restore', v.url.replace(v.backup, 'backup-0000000000000000'), path.join(work, 'nothing'), '--json']);
    expect(lastJson(r2)).toMatchObject({ error: { code: 'CONVOY_BACKUP_NOT_FOUND' } });
    await expect(fs.stat(path.join(work, 'nothing'))).rejects.toThrow();
  });

  it('says a Convoy backup URL is read-only for the commands that handle only ours', async () => {
    const r = await cli(['inspect', rs.volumes[0]!.url, '--json']);
    expect(r.code).toBe(2);
    expect(lastJson(r)).toMatchObject({ error: { code: 'CONVOY_RANCHER_BACKUP_READ_ONLY' } });
  });
});

/** A deltablock store laid out as Convoy's devicemapper driver wrote it (the real one is made in the dm guest). */
async function deltablockStore(dir: string, blocks: Map<number, Buffer>, size: number): Promise<string> {
  const vdir = path.join(dir, 'convoy-objectstore/volumes/vo/l2/vol2');
  const time = 'Wed Dec 02 00:57:58 +0000 2026';
  for (const b of blocks.values()) {
    const c = deltablockChecksum(b);
    await fs.mkdir(path.join(vdir, 'blocks', c.slice(0, 2), c.slice(2, 4)), { recursive: true });
    await fs.writeFile(path.join(vdir, 'blocks', c.slice(0, 2), c.slice(2, 4), `${c}.blk`), gzipSync(b));
  }
  await fs.mkdir(path.join(vdir, 'backups'), { recursive: true });
  await fs.writeFile(
    path.join(vdir, 'volume.cfg'),
    JSON.stringify({ Name: 'vol2', Driver: 'devicemapper', Size: size, CreatedTime: time }),
  );
  const record = {
    Name: 'backup-0123456789abcdef',
    Driver: '',
    VolumeName: 'vol2',
    SnapshotName: 's',
    SnapshotCreatedAt: time,
    CreatedTime: time,
    Blocks: [...blocks].map(([i, b]) => ({ Offset: i * DELTABLOCK_SIZE, BlockChecksum: deltablockChecksum(b) })),
    SingleFile: { FilePath: '' },
  };
  await fs.writeFile(path.join(vdir, 'backups/backup_backup-0123456789abcdef.cfg'), JSON.stringify(record));
  return `vfs://${dir}?backup=backup-0123456789abcdef\\u0026volume=vol2`;
}

describe('convoy-backup on a Rancher Convoy v0.5.2 devicemapper (deltablock) store', () => {
  it('restores the URL into a file bit for bit, and refuses a directory target and --incremental', async () => {
    const blocks = new Map([
      [1, randomBytes(DELTABLOCK_SIZE)],
      [3, randomBytes(DELTABLOCK_SIZE)],
    ]);
    const size = 5 * DELTABLOCK_SIZE;
    const url = await deltablockStore(path.join(work, 'dm-store'), blocks, size);
    const target = path.join(work, 'dm.img');
    const r = await cli(['restore', url, target, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({
      id: 'backup-0123456789abcdef',
      kind: 'blocks',
      format: 'rancher-convoy-v0.5.2',
      size,
      blocksWritten: 2,
    });
    const want = Buffer.alloc(size);
    for (const [i, b] of blocks) b.copy(want, i * DELTABLOCK_SIZE);
    expect((await fs.readFile(target)).equals(want)).toBe(true);
    const list = lastJson<Record<string, unknown>[]>(await cli(['list', `vfs://${path.join(work, 'dm-store')}`, '--json']));
    expect(list).toMatchObject([{ kind: 'blocks', driver: 'devicemapper', size }]);
    const asDir = path.join(work, 'dm-dir');
    await fs.mkdir(asDir);
    expect(lastJson(await cli(['restore', url, asDir, '--json']))).toMatchObject({ error: { code: 'CONVOY_TARGET_INVALID' } });
    const inc = await cli(['restore', url, target, '--incremental', '--json']);
    expect(inc.code).toBe(2);
  });
});
