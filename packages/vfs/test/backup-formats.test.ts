// vfs backups are directory backups; the tar-in-block-mode backups of earlier releases still restore.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupVolume, FileSource, readManifest } from '@convoy/blockstore';
import { FsObjectStore } from '@convoy/objectstore';
import { VfsDriver } from '../src/index.js';

let tmp: string;
let driver: VfsDriver;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-vfs-fmt-'));
  driver = new VfsDriver({ basePath: path.join(tmp, 'shared'), hostId: 'host-a' });
  await driver.start();
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const req = (name: string) => ({ name, uuid: randomUUID(), options: {} });

describe('vfs backups', () => {
  it('are incremental directory backups: a second backup after a small change reads only the changed files', async () => {
    await driver.create(req('v1'));
    const mp = await driver.mount('v1');
    for (let i = 0; i < 50; i++) await fs.writeFile(path.join(mp, `f${i}`), `content ${i}\n`.repeat(100));
    // mtimes in the past: the files cache does not trust a file changed within a second of a backup
    for (let i = 0; i < 50; i++) await fs.utimes(path.join(mp, `f${i}`), 1_600_000_000, 1_600_000_000);
    await driver.snapshotCreate('v1', { name: 's1', uuid: randomUUID() });
    const store = await new FsObjectStore(path.join(tmp, 'backups')).open();
    const first = await driver.backup({ volume: 'v1', snapshot: 's1', store });
    const m1 = await readManifest(store, 'v1', first.id);
    expect(m1).toMatchObject({ kind: 'directory', labels: { driver: 'vfs', content: 'directory' } });

    await fs.writeFile(path.join(mp, 'f7'), 'changed\n');
    await driver.snapshotCreate('v1', { name: 's2', uuid: randomUUID() });
    const second = await driver.backup({ volume: 'v1', snapshot: 's2', store });
    const m2 = await readManifest(store, 'v1', second.id);
    expect(m2.stats).toMatchObject({ filesTotal: 50, filesRead: 1, filesCached: 49 });

    await driver.restore({ volume: req('v2'), store, backupVolume: 'v1', backupId: second.id });
    const mp2 = await driver.mount('v2');
    expect(await fs.readFile(path.join(mp2, 'f7'), 'utf8')).toBe('changed\n');
    expect(await fs.readFile(path.join(mp2, 'f8'), 'utf8')).toBe('content 8\n'.repeat(100));
    expect((await fs.readdir(mp2)).length).toBe(50);
  });

  it('made by an earlier release (a tar of the snapshot in block mode) still restore', async () => {
    const src = path.join(tmp, 'old-src');
    await fs.mkdir(path.join(src, 'sub'), { recursive: true });
    await fs.writeFile(path.join(src, 'sub', 'a.txt'), 'from an old backup');
    await fs.symlink('sub/a.txt', path.join(src, 'link'));
    const archive = path.join(tmp, 'snapshot.tar');
    execFileSync('tar', ['--create', '--file', archive, '--sparse', '--numeric-owner', '--xattrs', '--acls', '-C', src, '.']);
    const store = await new FsObjectStore(path.join(tmp, 'backups')).open();
    const source = await FileSource.open(archive);
    const { manifest } = await backupVolume({ store, volume: 'old', source, snapshot: 's', labels: { driver: 'vfs', content: 'tar' } });
    await source.close();
    await driver.restore({ volume: req('restored'), store, backupVolume: 'old', backupId: manifest.id });
    const mp = await driver.mount('restored');
    expect(await fs.readFile(path.join(mp, 'sub', 'a.txt'), 'utf8')).toBe('from an old backup');
    expect(await fs.readlink(path.join(mp, 'link'))).toBe('sub/a.txt');
  });
});
