import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '@convoy/objectstore';
import { rejectionOf } from '@convoy/objectstore/testing';
import { VfsDriver } from '../src/index.js';

let base: string;
let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-vfs-'));
  base = path.join(tmp, 'shared');
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function host(id: string): Promise<VfsDriver> {
  const d = new VfsDriver({ basePath: base, hostId: id });
  await d.start();
  return d;
}

const req = (name: string) => ({ name, uuid: randomUUID(), options: {} });

describe('vfs driver', () => {
  it('creates, mounts, snapshots point-in-time, backs up and restores a volume', async () => {
    const a = await host('host-a');
    await a.create(req('v1'));
    const mp = await a.mount('v1');
    await fs.mkdir(path.join(mp, 'sub'));
    await fs.writeFile(path.join(mp, 'sub', 'file.txt'), 'before snapshot');
    await fs.symlink('sub/file.txt', path.join(mp, 'link'));
    await a.snapshotCreate('v1', { name: 's1', uuid: randomUUID() });
    await fs.writeFile(path.join(mp, 'sub', 'file.txt'), 'after snapshot');
    await fs.writeFile(path.join(mp, 'late.txt'), 'not in the snapshot');

    const store = await new FsObjectStore(path.join(tmp, 'backups')).open();
    const { url } = await a.backup({ volume: 'v1', snapshot: 's1', store });
    expect(url).toMatch(/^vfs:\/\/.*\?backup=\d{8}T\d{9}Z-[0-9a-f]{6}&volume=v1$/);
    const id = new URL(url).searchParams.get('backup') as string;
    await a.restore({ volume: req('v2'), store, backupVolume: 'v1', backupId: id });
    const mp2 = await a.mount('v2');
    expect(await fs.readFile(path.join(mp2, 'sub', 'file.txt'), 'utf8')).toBe('before snapshot');
    expect(await fs.readlink(path.join(mp2, 'link'))).toBe('sub/file.txt');
    await expect(fs.stat(path.join(mp2, 'late.txt'))).rejects.toThrow(/ENOENT/);
  });

  it('remove really deletes the data: a re-created volume starts empty', async () => {
    const a = await host('host-a');
    await a.create(req('v'));
    const mp = await a.mount('v');
    await fs.writeFile(path.join(mp, 'secret'), 'old data');
    await a.snapshotCreate('v', { name: 'snap', uuid: randomUUID() });
    await a.unmount('v');
    await a.remove('v');
    expect(await a.get('v')).toBeUndefined();
    await a.create(req('v'));
    const mp2 = await a.mount('v');
    expect(await fs.readdir(mp2)).toEqual([]);
    expect(await a.snapshotList('v')).toEqual([]);
    // nothing of the old volume remains anywhere under the base path
    const all = await fs.readdir(base, { recursive: true });
    expect(all.filter((p) => p.endsWith('secret'))).toEqual([]);
  });

  it('two hosts on one shared path see the same volumes; delete is refused while the other host mounts it', async () => {
    const a = await host('host-a');
    const b = await host('host-b');
    await a.create(req('shared1'));
    expect((await b.list()).map((v) => v.name)).toEqual(['shared1']);
    await b.mount('shared1');
    const err = await rejectionOf(a.remove('shared1'));
    expect(err.code).toBe('CONVOY_VOLUME_IN_USE');
    expect(err.message).toContain('host-b');
    expect(await a.get('shared1')).toBeDefined();
    await b.unmount('shared1');
    await a.remove('shared1');
    expect(await b.list()).toEqual([]);
    // host B learns who deleted it
    const t = await b.tombstone('shared1');
    expect(t).toMatchObject({ deletedBy: 'host-a' });
    const e2 = await rejectionOf(b.mount('shared1'));
    expect(e2.message).toMatch(/deleted by host host-a at /);
    expect(e2.hint).toMatch(/docker volume rm -f shared1/);
  });

  it("a volume another host's Docker still references is deleted only with force; that host then learns who deleted it", async () => {
    const a = await host('host-a');
    const b = await host('host-b');
    await a.create(req('known'));
    await b.reference('known'); // host B's Docker looked it up (a stopped container refers to it)
    await a.reference('known'); // A's own reference never blocks A
    const err = await rejectionOf(a.remove('known'));
    expect(err.code).toBe('CONVOY_VOLUME_REFERENCED');
    expect(err.message).toContain('host-b');
    expect(err.hint).toMatch(/docker volume rm known.*--force/);
    expect(await a.get('known')).toBeDefined();
    await a.remove('known', { force: true });
    expect(await b.get('known')).toBeUndefined();
    expect(await b.tombstone('known')).toMatchObject({ deletedBy: 'host-a' });
    expect(await b.references('known')).toEqual([]);
    // re-created, it starts with no references
    await b.create(req('known'));
    await a.remove('known');
  });

  it('a corrupt lease or Docker reference of another host blocks delete, even with force, naming the file', async () => {
    const a = await host('host-a');
    const v = await a.create(req('v'));
    const mp = await a.mount('v');
    await fs.writeFile(path.join(mp, 'precious'), 'data');
    await a.unmount('v');
    const lease = path.join(base, 'meta', 'leases', 'v', 'host-b.json');
    const ref = path.join(base, 'meta', 'refs', 'v', 'host-b.json');
    const good = { host: 'host-b', volume: 'v', uuid: v.uuid, since: new Date().toISOString() };
    const cases: [string, string, RegExp][] = [
      [lease, '{"host": "host-b", "vol', /mount lease of host host-b .* is corrupt: not valid JSON/],
      [lease, JSON.stringify({ ...good, uuid: undefined }), /mount lease of host host-b .* is corrupt: uuid: /],
      [lease, JSON.stringify({ ...good, host: 'host-a' }), /it says host "host-a" .* but it is the file of host host-b/],
      [ref, 'garbage', /Docker reference of host host-b .* is corrupt: not valid JSON/],
      [ref, JSON.stringify({ ...good, since: 42 }), /Docker reference of host host-b .* is corrupt: since: /],
    ];
    for (const [file, content, message] of cases) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, content);
      for (const force of [false, true]) {
        const err = await rejectionOf(a.remove('v', { force }));
        expect(err.code, content).toBe('CONVOY_RECORD_CORRUPT');
        expect(err.message).toMatch(message);
        expect(err.message).toContain(file);
        expect(err.hint).toMatch(/host-b/);
      }
      await fs.rm(file);
    }
    expect(await fs.readFile(path.join(mp, 'precious'), 'utf8')).toBe('data');
    await a.remove('v');
    expect(await a.get('v')).toBeUndefined();
  });

  it('refuses a second create of the same name, from any host, atomically', async () => {
    const a = await host('host-a');
    const b = await host('host-b');
    const results = await Promise.allSettled([a.create(req('race')), b.create(req('race')), a.create(req('race'))]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await fs.readdir(path.join(base, 'data'))).length).toBe(1); // the losers cleaned up
  });

  it('finishes an interrupted removal at start', async () => {
    const a = await host('host-a');
    await fs.mkdir(path.join(base, 'trash', 'left-by-crash', 'deep'), { recursive: true }); // an older release's layout
    await fs.mkdir(path.join(base, 'trash', 'host-host-a', 'left-by-crash', 'deep'), { recursive: true });
    await a.start();
    expect(await fs.readdir(path.join(base, 'trash'))).toEqual(['host-host-a']);
    expect(await fs.readdir(path.join(base, 'trash', 'host-host-a'))).toEqual([]);
  });

  it('a host starting leaves the temporary files of other hosts sharing the path alone', async () => {
    await host('host-b');
    const inUse = path.join(base, 'trash', 'host-host-b', 'restore-123', 'snapshot.tar');
    await fs.mkdir(path.dirname(inUse), { recursive: true });
    await fs.writeFile(inUse, 'host-b is restoring from this right now');
    await host('host-a');
    expect(await fs.readFile(inUse, 'utf8')).toBe('host-b is restoring from this right now');
  });

  it('a missing snapshot and a relative base path are clear errors', async () => {
    const a = await host('host-a');
    await a.create(req('v'));
    expect((await rejectionOf(a.snapshotDelete('v', 'nope'))).code).toBe('CONVOY_SNAPSHOT_NOT_FOUND');
    expect(() => new VfsDriver({ basePath: 'rel/path' })).toThrow(/absolute/);
  });
});
