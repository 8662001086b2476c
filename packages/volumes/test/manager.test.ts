import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '@convoy/objectstore';
import { FaultyObjectStore, Gate, rejectionOf } from '@convoy/objectstore/testing';
import { VfsDriver } from '@convoy/vfs';
import { parseSize } from '@convoy/rules';
import { VolumeManager, type ManagerOptions } from '../src/index.js';

let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-mgr-'));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

function open(host = 'h1', extra: Partial<ManagerOptions> = {}): Promise<VolumeManager> {
  return VolumeManager.open({
    root: path.join(tmp, `root-${host}`),
    drivers: [new VfsDriver({ basePath: path.join(tmp, 'vfs'), hostId: host })],
    ...extra,
  });
}

describe('VolumeManager', () => {
  it('counts Docker mounts by ID: first mounts, last unmounts, and the counts survive a restart', async () => {
    const m = await open();
    await m.create({ name: 'v', caller: 'docker' });
    const mp = await m.mount('v', { id: 'c1', caller: 'docker' });
    expect(await m.mount('v', { id: 'c2', caller: 'docker' })).toBe(mp);
    expect(await m.mount('v', { id: 'c2', caller: 'docker' })).toBe(mp); // idempotent
    expect((await m.get('v'))?.mountedBy).toEqual(['c1', 'c2']);
    await m.unmount('v', { id: 'c1' });
    expect((await m.get('v'))?.mountpoint).toBe(mp);

    // "kill -9": a new manager on the same root remembers c2 and keeps the volume mounted
    const m2 = await open();
    expect((await m2.get('v'))?.mountedBy).toEqual(['c2']);
    await expect(m2.remove('v', { caller: 'cli' })).rejects.toMatchObject({ code: 'CONVOY_VOLUME_IN_USE' });
    await m2.unmount('v', { id: 'unknown' });
    await m2.unmount('v', { id: 'c2' });
    expect((await m2.get('v'))?.mountpoint).toBeUndefined();
    await m2.remove('v', { caller: 'docker' });
    expect(await m2.get('v')).toBeUndefined();
  });

  it('a mount or unmount killed between the lease and the saved mount state leaves no lease once the daemon restarts', async () => {
    const m = await open();
    await m.create({ name: 'v', caller: 'docker' });
    // kill -9 of a Docker Mount after the driver wrote this host's lease, before the mount state was saved
    const vfs = new VfsDriver({ basePath: path.join(tmp, 'vfs'), hostId: 'h1' });
    await vfs.mount('v');
    const other = await open('h2');
    expect((await rejectionOf(other.remove('v', { caller: 'cli', force: true }))).code).toBe('CONVOY_VOLUME_IN_USE');
    const restarted = await open();
    expect((await restarted.get('v'))?.mountpoint).toBeUndefined();
    expect(await vfs.leases('v')).toEqual([]);
    await other.remove('v', { caller: 'cli', force: true }); // nothing holds it any more
    // a volume Docker still holds keeps its lease across the restart
    await restarted.create({ name: 'w', caller: 'docker' });
    await restarted.mount('w', { id: 'c1', caller: 'docker' });
    await open();
    expect((await vfs.leases('w')).map((l) => l.host)).toEqual(['h1']);
  });

  it('Docker removing a volume drops mount IDs of containers that went away while the daemon was down', async () => {
    const m = await open();
    await m.create({ name: 'orphan', caller: 'docker' });
    await m.mount('orphan', { id: 'dead-container', caller: 'docker' });
    const m2 = await open(); // restarted after kill -9; Docker's Unmount was lost meanwhile
    expect((await m2.get('orphan'))?.mountedBy).toEqual(['dead-container']);
    await m2.remove('orphan', { caller: 'docker' });
    expect(await m2.get('orphan')).toBeUndefined();
    expect(m2.mountRefs.holders('orphan')).toEqual([]);
    // an operator's mount is not Docker's to drop
    await m2.create({ name: 'held', caller: 'docker' });
    await m2.mount('held', { id: 'cli', caller: 'cli' });
    await m2.mount('held', { id: 'c9', caller: 'docker' });
    expect((await rejectionOf(m2.remove('held', { caller: 'docker' }))).code).toBe('CONVOY_VOLUME_IN_USE');
  });

  it('--force never deletes a volume mounted on this host, by an operator or by a container', async () => {
    const m = await open();
    await m.create({ name: 'busy', caller: 'cli' });
    const mp = await m.mount('busy', { id: 'cli', caller: 'cli' });
    await fs.writeFile(path.join(mp, 'data.txt'), 'in use');
    const err = await rejectionOf(m.remove('busy', { caller: 'cli', force: true }));
    expect(err.code).toBe('CONVOY_VOLUME_IN_USE');
    expect(err.message).toContain('by cli');
    await m.unmount('busy', { id: 'cli' });
    await m.mount('busy', { id: 'container-1', caller: 'docker' });
    expect((await rejectionOf(m.remove('busy', { caller: 'cli', force: true }))).message).toContain('by container-1');
    expect(await fs.readFile(path.join(mp, 'data.txt'), 'utf8')).toBe('in use');
    expect((await m.get('busy'))?.mountedBy).toEqual(['container-1']);
  });

  it('--force never deletes a volume another host mounts on the shared path, and names that host', async () => {
    const a = await open('host-a');
    const b = await open('host-b');
    await a.create({ name: 'shared', caller: 'cli' });
    await b.mount('shared', { id: 'container-b', caller: 'docker' });
    const err = await rejectionOf(a.remove('shared', { caller: 'cli', force: true }));
    expect(err.code).toBe('CONVOY_VOLUME_IN_USE');
    expect(err.message).toContain('host-b');
    expect(err.hint).toContain(path.join(tmp, 'vfs', 'meta', 'leases', 'shared', 'host-b.json'));
    expect(await a.get('shared')).toBeDefined();
    // once B unmounts, its Docker still knows the volume: that reference is what --force overrides
    await b.unmount('shared', { id: 'container-b' });
    expect((await rejectionOf(a.remove('shared', { caller: 'cli' }))).code).toBe('CONVOY_VOLUME_REFERENCED');
    await a.remove('shared', { caller: 'cli', force: true });
    expect(await b.get('shared')).toBeUndefined();
  });

  it('default snapshot names are unique even when made in the same second', async () => {
    const m = await open();
    await m.create({ name: 'snappy', caller: 'cli' });
    const names = new Set<string>();
    for (let i = 0; i < 5; i++) names.add((await m.snapshotCreate('snappy')).name);
    expect(names.size).toBe(5);
  });

  it('a malformed name is an invalid-argument error, never a lookup', async () => {
    const m = await open();
    for (const bad of ['a/b', '../../etc/passwd', 'x'.repeat(300), 'a\0b']) {
      expect((await rejectionOf(m.require(bad))).code).toBe('CONVOY_VOLUME_NAME_INVALID');
    }
  });

  it('Docker create of a known volume is fine; an operator create of it is an error', async () => {
    const m = await open();
    await m.create({ name: 'v', caller: 'cli' });
    await m.create({ name: 'v', caller: 'docker' });
    expect((await rejectionOf(m.create({ name: 'v', caller: 'cli' }))).code).toBe('CONVOY_VOLUME_EXISTS');
  });

  it('validates names and options', async () => {
    const m = await open();
    for (const name of ['../x', 'a/b', 'x'.repeat(300), '', 'nul\0']) {
      expect((await rejectionOf(m.create({ name, caller: 'docker' }))).code).toBe('CONVOY_VOLUME_NAME_INVALID');
    }
    expect((await rejectionOf(m.create({ name: 'v', caller: 'cli', driver: 'zfs' }))).message).toMatch(/unknown driver "zfs"/);
    expect((await rejectionOf(m.create({ name: 'v', caller: 'cli', size: 'lots' }))).code).toBe('CONVOY_SIZE_INVALID');
    expect(parseSize('10G')).toBe(10 * 2 ** 30);
    expect(parseSize('512MiB')).toBe(512 * 2 ** 20);
    // an option nobody reads (a typo of backup=) is refused with the keys there are, and nothing is made
    for (const caller of ['docker', 'cli'] as const) {
      const typo = await rejectionOf(m.create({ name: 'typo', caller, options: { bakup: 'vfs:///x?backup=b&volume=v', size: '1G' } }));
      expect(typo).toMatchObject({ code: 'CONVOY_INVALID_ARGUMENT', message: 'unknown volume option "bakup"' });
      expect(typo.hint).toContain('backup, driver, size');
    }
    expect((await m.list()).volumes).toEqual([]);
    expect((await m.create({ name: 'known', caller: 'docker', options: { size: '1G', driver: 'vfs' } })).name).toBe('known');
  });

  it('--ignore-docker-delete keeps the volume when Docker removes it', async () => {
    const m = await open('h1', { ignoreDockerDelete: true });
    await m.create({ name: 'keep', caller: 'docker' });
    await m.remove('keep', { caller: 'docker' });
    expect(await m.get('keep')).toBeDefined();
    await m.remove('keep', { caller: 'cli' });
    expect(await m.get('keep')).toBeUndefined();
  });

  it('--create-on-docker-mount creates an unknown volume on mount', async () => {
    const m = await open('h1', { createOnDockerMount: true });
    const mp = await m.mount('auto', { id: 'c', caller: 'docker' });
    expect((await fs.stat(mp)).isDirectory()).toBe(true);
    const strict = await open('h2');
    expect((await rejectionOf(strict.mount('other', { id: 'c', caller: 'docker' }))).code).toBe('CONVOY_VOLUME_NOT_FOUND');
  });

  it('a volume from a snapshot (--snapshot, -o snapshot=), and a snapshot restore refused while a container or the CLI mounts the volume', async () => {
    const m = await open();
    await m.create({ name: 'src', caller: 'cli' });
    const mp = await m.mount('src', { id: 'cli', caller: 'cli' });
    await fs.writeFile(path.join(mp, 'data.txt'), 'at the snapshot');
    await m.snapshotCreate('src', 'snap1');
    await fs.writeFile(path.join(mp, 'data.txt'), 'later');
    const fromCli = await m.create({ name: 'c1', caller: 'cli', snapshot: 'snap1' });
    const fromDocker = await m.create({ name: 'c2', caller: 'docker', options: { snapshot: 'snap1' } });
    for (const v of [fromCli, fromDocker]) {
      expect(v.driver).toBe('vfs');
      expect(await fs.readFile(path.join(await m.mount(v.name, { id: 'cli', caller: 'cli' }), 'data.txt'), 'utf8')).toBe('at the snapshot');
    }
    expect(
      await rejectionOf(m.create({ name: 'c3', caller: 'docker', options: { snapshot: 'snap1', backup: 'vfs:///x?backup=b&volume=v' } })),
    ).toMatchObject({
      code: 'CONVOY_INVALID_ARGUMENT',
      message: 'a volume is made from a backup or from a snapshot, not both',
    });
    expect((await rejectionOf(m.create({ name: 'c3', caller: 'cli', snapshot: 'nope' }))).code).toBe('CONVOY_SNAPSHOT_NOT_FOUND');
    expect((await m.list()).volumes.map((v) => v.name)).toEqual(['c1', 'c2', 'src']);

    // restore: refused while mounted, by the CLI or by a container
    expect(await rejectionOf(m.snapshotRestore('snap1'))).toMatchObject({
      code: 'CONVOY_VOLUME_IN_USE',
      message: expect.stringMatching(/by cli/),
    });
    await m.unmount('src', { id: 'cli' });
    await m.mount('src', { id: 'container-1', caller: 'docker' });
    expect((await rejectionOf(m.snapshotRestore('snap1'))).code).toBe('CONVOY_VOLUME_IN_USE');
    await m.unmount('src', { id: 'container-1' });
    expect(await m.snapshotRestore('snap1')).toMatchObject({ name: 'snap1', volume: 'src' });
    expect(await fs.readFile(path.join(await m.mount('src', { id: 'cli', caller: 'cli' }), 'data.txt'), 'utf8')).toBe('at the snapshot');
  });

  it('snapshots and backups by name; restore creates a new volume from the URL', async () => {
    const m = await open();
    await m.create({ name: 'src', caller: 'cli' });
    const mp = await m.mount('src', { id: 'cli', caller: 'cli' });
    await fs.writeFile(path.join(mp, 'data.txt'), 'hello');
    const s = await m.snapshotCreate('src', 'snap1');
    expect(s.volume).toBe('src');
    expect((await rejectionOf(m.snapshotCreate('src', 'snap1'))).code).toBe('CONVOY_SNAPSHOT_EXISTS');
    const { url } = await m.backupCreate('snap1', `vfs://${path.join(tmp, 'bk')}`);
    expect((await m.backupList(`vfs://${path.join(tmp, 'bk')}`)).manifests.map((x) => x.volume)).toEqual(['src']);
    const inspected = await m.backupInspect(url);
    expect(inspected).toMatchObject({ format: 'convoy', manifest: { snapshot: 'snap1' } });
    // what Rancher Convoy's inspect showed: the volume's UUID and creation time, the snapshot's time, the driver
    const src = await m.require('src');
    expect(await m.snapshotInspect('snap1')).toMatchObject({ volumeUuid: src.uuid, volumeCreatedAt: src.createdAt });
    expect(inspected.format === 'convoy' ? inspected.manifest.labels : undefined).toEqual({
      content: 'directory',
      driver: 'vfs',
      'convoy.snapshot-created': s.createdAt,
      'convoy.volume-uuid': src.uuid,
      'convoy.volume-created': src.createdAt,
    });
    await m.create({ name: 'copy', caller: 'cli', backup: url });
    const mp2 = await m.mount('copy', { id: 'cli', caller: 'cli' });
    expect(await fs.readFile(path.join(mp2, 'data.txt'), 'utf8')).toBe('hello');
    await m.backupDelete(url);
    expect(await m.backupList(`vfs://${path.join(tmp, 'bk')}`)).toEqual({ manifests: [], rancher: [], problems: [] });
    await m.snapshotDelete('snap1');
    expect((await rejectionOf(m.snapshotInspect('snap1'))).code).toBe('CONVOY_SNAPSHOT_NOT_FOUND');
  });

  it('a host whose Docker references a volume deleted elsewhere gets a clear error naming that host', async () => {
    const a = await open('host-a');
    const b = await open('host-b');
    await a.create({ name: 'gone', caller: 'docker' });
    expect((await b.list()).volumes.map((v) => v.name)).toEqual(['gone']);
    expect(await b.get('gone', 'docker')).toBeDefined(); // B's Docker looks it up: B references it
    const refused = await rejectionOf(a.remove('gone', { caller: 'docker' }));
    expect(refused.code).toBe('CONVOY_VOLUME_REFERENCED');
    expect(refused.message).toContain('host-b');
    await a.remove('gone', { caller: 'cli', force: true });
    const err = await rejectionOf(b.mount('gone', { id: 'c', caller: 'docker' }));
    expect(err.code).toBe('CONVOY_VOLUME_DELETED');
    expect(err.message).toMatch(/deleted by host host-a/);
    expect(err.hint).toMatch(/docker volume rm -f gone/);
    await b.remove('gone', { caller: 'docker' }); // Docker's own removal just drops the reference
    // re-created under the same name, B's Docker knowing it again is recorded again
    await a.create({ name: 'gone', caller: 'cli' });
    expect(await b.get('gone', 'docker')).toBeDefined();
    expect((await rejectionOf(a.remove('gone', { caller: 'cli' }))).code).toBe('CONVOY_VOLUME_REFERENCED');
  });

  it('a corrupt volume record is an error naming the file; list and snapshot list show the others and report it', async () => {
    const m = await open();
    for (const name of ['good1', 'bad', 'good2']) await m.create({ name, caller: 'cli' });
    await m.snapshotCreate('good1', 'good1-s');
    const file = path.join(tmp, 'vfs', 'meta', 'volumes', 'bad.json');
    const uuid = (await m.get('bad'))?.uuid as string;
    for (const garbage of [
      '{"name": "bad", "uu',
      JSON.stringify({ name: 'bad', createdAt: new Date().toISOString(), createdBy: 'h1' }),
      JSON.stringify({ name: 'bad', uuid: '../../etc', createdAt: new Date().toISOString(), createdBy: 'h1' }),
    ]) {
      await fs.writeFile(file, garbage);
      const listed = await m.list();
      expect(listed.volumes.map((v) => v.name)).toEqual(['good1', 'good2']);
      expect(listed.problems).toHaveLength(1);
      expect(listed.problems[0]).toMatchObject({
        code: 'CONVOY_RECORD_CORRUPT',
        message: expect.stringContaining(file),
        hint: expect.stringContaining('repair the file'),
      });
      const snaps = await m.snapshotList();
      expect(snaps.snapshots.map((s) => s.name)).toEqual(['good1-s']);
      expect(snaps.problems.map((p) => p.message)).toEqual([listed.problems[0]?.message]);
      const attempts = [
        () => m.get('bad'),
        () => m.create({ name: 'bad', caller: 'cli' }),
        () => m.remove('bad', { caller: 'cli' }),
        () => m.remove('bad', { caller: 'cli', force: true }),
        () => m.mount('bad', { id: 'cli', caller: 'cli' }),
        () => m.snapshotList('bad'),
      ];
      for (const attempt of attempts) {
        const err = await rejectionOf(attempt());
        expect(err.code).toBe('CONVOY_RECORD_CORRUPT');
        expect(err.message).toContain(file);
        expect(err.hint).toBeDefined();
      }
      // creating a snapshot of another volume is not blocked by it
      await m.snapshotDelete('good1-s');
      await m.snapshotCreate('good1', 'good1-s');
    }
    // the data was never touched
    expect((await fs.readdir(path.join(tmp, 'vfs', 'data'))).sort()).toContain(uuid);
  });

  it('a corrupt snapshot record is an error naming the file; the other snapshots are listed', async () => {
    const m = await open();
    await m.create({ name: 'v', caller: 'cli' });
    await m.snapshotCreate('v', 's1');
    await m.snapshotCreate('v', 's2');
    const file = path.join(tmp, 'vfs', 'meta', 'snapshots', 'v', 's1.json');
    await fs.writeFile(file, 'not json');
    const listed = await m.snapshotList('v');
    expect(listed.snapshots.map((s) => s.name)).toEqual(['s2']);
    expect(listed.problems[0]?.message).toContain(file);
    for (const attempt of [() => m.snapshotInspect('s1'), () => m.snapshotDelete('s1'), () => m.snapshotCreate('v', 's1')]) {
      expect((await rejectionOf(attempt())).message).toMatch(/record of snapshot s1 of volume v .* is corrupt: not valid JSON/);
    }
  });

  it('a corrupt mount state stops the start with an error naming the file and the fix', async () => {
    const m = await open();
    await m.create({ name: 'v', caller: 'docker' });
    await m.mount('v', { id: 'container-1', caller: 'docker' });
    const file = path.join(tmp, 'root-h1', 'state', 'mounts.json');
    for (const garbage of ['{"v": ["container-1"', '{"v": "container-1"}']) {
      await fs.writeFile(file, garbage);
      const err = await rejectionOf(open());
      expect(err.code).toBe('CONVOY_STATE_INVALID');
      expect(err.message).toContain(`mount state ${file} is corrupt`);
      expect(err.hint).toMatch(/Repair it .*docker ps.*move it away/);
    }
  });

  it('a volume being restored is listed as creating and cannot be mounted until its data is all there', async () => {
    const m = await open();
    await m.create({ name: 'src', caller: 'cli' });
    await fs.writeFile(path.join(await m.mount('src', { id: 'cli', caller: 'cli' }), 'f.txt'), 'restored');
    await m.snapshotCreate('src', 'src-s');
    const { url } = await m.backupCreate('src-s', `vfs://${path.join(tmp, 'bk')}`);
    // the restore's reads of blocks wait at a gate: the volume is mid-restore
    const gate = new Gate();
    const slow = await open('h1', {
      openStore: async (u) =>
        new FaultyObjectStore(await openStore(u), [{ op: 'get', key: /^blocks\//, kind: 'pause', gate: () => gate.wait() }]),
    });
    const restoring = slow.create({ name: 'copy', caller: 'cli', backup: url });
    await gate.reached;
    const other = await open('h2'); // another host starting meanwhile leaves the restore's files alone
    expect((await slow.list()).volumes.find((v) => v.name === 'copy')).toMatchObject({ state: 'creating' });
    // (this manager would queue a mount behind the create; another host is refused)
    expect((await other.list()).volumes.find((v) => v.name === 'copy')).toMatchObject({ state: 'creating' });
    const err = await rejectionOf(other.mount('copy', { id: 'c1', caller: 'docker' }));
    expect(err.code).toBe('CONVOY_VOLUME_INCOMPLETE');
    expect(err.message).toMatch(/volume copy is not finished: host h1 began creating it at /);
    expect((await rejectionOf(other.snapshotCreate('copy', 'too-early'))).code).toBe('CONVOY_VOLUME_INCOMPLETE');
    gate.open();
    await restoring;
    expect((await slow.get('copy'))?.state).toBeUndefined();
    expect(await fs.readFile(path.join(await slow.mount('copy', { id: 'c1', caller: 'docker' }), 'f.txt'), 'utf8')).toBe('restored');
  });

  it("a create or restore killed after its record was written: at start its host removes it; another host's stays unmountable", async () => {
    const vfs = path.join(tmp, 'vfs');
    await open(); // lays out the base path
    // what kill -9 during `convoy create X --backup URL` leaves: the record, still 'creating', and part of the data
    const crashed = async (name: string, host: string): Promise<string> => {
      const uuid = randomUUID();
      await fs.mkdir(path.join(vfs, 'meta', 'volumes'), { recursive: true });
      await fs.writeFile(
        path.join(vfs, 'meta', 'volumes', `${name}.json`),
        JSON.stringify({ name, uuid, createdAt: new Date().toISOString(), createdBy: host, state: 'creating' }),
      );
      await fs.mkdir(path.join(vfs, 'data', uuid));
      await fs.writeFile(path.join(vfs, 'data', uuid, 'half-restored'), 'x');
      return uuid;
    };
    const mine = await crashed('mine', 'h1');
    const theirs = await crashed('theirs', 'h2');
    const m = await open('h1'); // the restart
    expect(await m.get('mine')).toBeUndefined();
    await expect(fs.stat(path.join(vfs, 'data', mine))).rejects.toThrow(/ENOENT/);
    const listed = (await m.list()).volumes;
    expect(listed.map((v) => [v.name, v.state])).toEqual([['theirs', 'creating']]);
    const err = await rejectionOf(m.mount('theirs', { id: 'cli', caller: 'cli' }));
    expect(err.code).toBe('CONVOY_VOLUME_INCOMPLETE');
    expect(err.hint).toMatch(/if that host stopped for good, `convoy delete theirs`/);
    expect(await fs.readdir(path.join(vfs, 'data', theirs))).toEqual(['half-restored']);
    // the name is free again here; the other host's unfinished volume can be deleted
    await m.create({ name: 'mine', caller: 'cli' });
    await m.remove('theirs', { caller: 'cli' });
    expect((await m.list()).volumes.map((v) => v.name)).toEqual(['mine']);
  });

  it('a data directory no record names (a create or delete killed halfway) is removed at start, unless a record is unreadable', async () => {
    const vfs = path.join(tmp, 'vfs');
    const m = await open();
    const kept = await m.create({ name: 'kept', caller: 'cli' });
    const orphan = randomUUID();
    await fs.mkdir(path.join(vfs, 'data', orphan));
    await fs.writeFile(path.join(vfs, 'data', orphan, 'left'), 'x');
    // while some record cannot be read, its directory cannot be told from an orphan: nothing is removed
    await fs.writeFile(path.join(vfs, 'meta', 'volumes', 'broken.json'), '{');
    await open();
    expect((await fs.readdir(path.join(vfs, 'data'))).sort()).toEqual([kept.uuid, orphan].sort());
    await fs.rm(path.join(vfs, 'meta', 'volumes', 'broken.json'));
    await open();
    expect(await fs.readdir(path.join(vfs, 'data'))).toEqual([kept.uuid]);
    expect((await m.list()).volumes.map((v) => v.name)).toEqual(['kept']);
  });

  it('finds volumes by UUID prefix', async () => {
    const m = await open();
    const v = await m.create({ name: 'byuuid', caller: 'cli' });
    expect((await m.require(v.uuid.slice(0, 8))).name).toBe('byuuid');
  });
});
