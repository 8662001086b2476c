// What kill -9 of a daemon leaves on a vfs base path mid-snapshot or mid-delete, and what the
// restart (VfsDriver.start) makes of it. Each state below is one the daemon campaign of
// tools/reliability reached by killing the daemon at a step of the operation.
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
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-vfs-restart-'));
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
const snapDirs = (): Promise<string[]> => fs.readdir(path.join(base, 'snapshots'));
const snapRecord = (volume: string, name: string): string => path.join(base, 'meta', 'snapshots', volume, `${name}.json`);

describe('vfs driver restarted after kill -9', () => {
  it('a snapshot copy renamed into place whose record was never written is removed at start', async () => {
    const a = await host('h1');
    await a.create(req('v'));
    // kill -9 of snapshotCreate between its rename and its record (before this fix's order)
    const orphan = randomUUID();
    await fs.mkdir(path.join(base, 'snapshots', orphan));
    await fs.writeFile(path.join(base, 'snapshots', orphan, 'f'), 'x');
    const restarted = await host('h1');
    expect(await snapDirs()).toEqual([]);
    expect((await restarted.info()).cleanedAtStart).toMatchObject({ orphans: [`snapshots/${orphan}`] });
  });

  it("a displaced record's data stays at start, and a corrupt displaced record keeps every directory (never read as absent)", async () => {
    const a = await host('h1');
    await a.create(req('v'));
    // What #putBack leaves when two creates of one name race: a record of the loser under displaced/, its data kept.
    const loser = randomUUID();
    const record = path.join(base, 'meta', 'displaced', 'v', `${randomUUID()}.json`);
    await fs.mkdir(path.dirname(record), { recursive: true });
    await fs.writeFile(record, JSON.stringify({ name: 'v', uuid: loser, createdAt: new Date().toISOString(), createdBy: 'h2' }));
    await fs.mkdir(path.join(base, 'data', loser));
    await fs.writeFile(path.join(base, 'data', loser, 'precious'), 'x');
    await host('h1');
    expect(await fs.readFile(path.join(base, 'data', loser, 'precious'), 'utf8')).toBe('x');

    await fs.writeFile(record, '{"name": "v", "uu');
    const restarted = await host('h1');
    expect(await fs.readFile(path.join(base, 'data', loser, 'precious'), 'utf8')).toBe('x');
    const cleaned = (await restarted.info()).cleanedAtStart as { skipped?: string } | undefined;
    expect(cleaned?.skipped).toMatch(/displaced record of volume v .* is corrupt/);
  });

  it('a snapshot this host left "creating" is removed at start; another host\'s stays and cannot be backed up', async () => {
    const a = await host('h1');
    const v = await a.create(req('v'));
    const crashed = async (name: string, by: string): Promise<string> => {
      const uuid = randomUUID();
      await fs.mkdir(path.dirname(snapRecord('v', name)), { recursive: true });
      await fs.writeFile(
        snapRecord('v', name),
        JSON.stringify({
          name,
          uuid,
          volume: 'v',
          volumeUuid: v.uuid,
          createdAt: new Date().toISOString(),
          createdBy: by,
          state: 'creating',
        }),
      );
      await fs.mkdir(path.join(base, 'snapshots', uuid)); // half copied
      return uuid;
    };
    await crashed('mine', 'h1');
    const theirs = await crashed('theirs', 'h2');
    const restarted = await host('h1');
    expect((await restarted.snapshotList('v')).map((s) => [s.name, s.state])).toEqual([['theirs', 'creating']]);
    expect(await snapDirs()).toEqual([theirs]);
    const store = await new FsObjectStore(path.join(tmp, 'backups')).open();
    const err = await rejectionOf(restarted.backup({ volume: 'v', snapshot: 'theirs', store }));
    expect(err.code).toBe('CONVOY_SNAPSHOT_INCOMPLETE');
    expect(err.message).toMatch(/snapshot theirs of volume v is not finished: host h2 began it at /);
    // the name is free again here
    await restarted.snapshotCreate('v', { name: 'mine', uuid: randomUUID() });
    expect((await restarted.snapshotList('v')).map((s) => s.name).sort()).toEqual(['mine', 'theirs']);
  });

  it('snapshot records a killed volume delete left behind never show up under a re-created volume of the same name, and go at start', async () => {
    const a = await host('h1');
    await a.create(req('v'));
    const s = { name: 's', uuid: randomUUID() };
    await a.snapshotCreate('v', s);
    // kill -9 of remove after the volume record went, before the snapshot records (the old order)
    await fs.rm(path.join(base, 'meta', 'volumes', 'v.json'));
    await a.create(req('v'));
    expect(await a.snapshotList('v')).toEqual([]);
    await host('h1');
    await expect(fs.stat(snapRecord('v', 's'))).rejects.toThrow(/ENOENT/);
    expect(await snapDirs()).toEqual([]);
  });
});

describe('vfs driver restarted after kill -9 mid-write of a record', () => {
  it("removes the temporary files of metadata writes killed an hour ago or more, any host's, and leaves younger ones", async () => {
    const a = await host('h1');
    await a.create(req('v'));
    const dir = path.join(base, 'meta', 'volumes');
    const old = path.join(dir, '.w.json~0123456789ab.tmp');
    const young = path.join(dir, '.x.json~ba9876543210.tmp');
    await fs.writeFile(old, '{');
    await fs.writeFile(young, '{');
    const hourAgo = new Date(Date.now() - 61 * 60 * 1000);
    await fs.utimes(old, hourAgo, hourAgo);
    await host('h2');
    expect((await fs.readdir(dir)).sort()).toEqual([path.basename(young), 'v.json']);
  });
});

describe('vfs driver restarted after kill -9 mid-swap of a record', () => {
  const take = async (name: string, forUuid: string): Promise<void> => {
    await fs.rename(
      path.join(base, 'meta', 'volumes', `${name}.json`),
      path.join(base, 'trash', 'host-h1', `record-${forUuid}-${randomUUID()}.json`),
    );
  };

  it("another volume's record a killed swap had taken by mistake goes back at the start, with its data", async () => {
    const a = await host('h1');
    const v = await a.create(req('v'));
    await fs.writeFile(path.join(base, 'data', v.uuid, 'f'), 'kept');
    await take('v', randomUUID()); // a swap for an older volume of the name took this one's record, then the host was killed
    const restarted = await host('h1');
    expect((await restarted.get('v'))?.uuid).toBe(v.uuid);
    expect(await fs.readFile(path.join(base, 'data', v.uuid, 'f'), 'utf8')).toBe('kept');
  });

  it('the record a killed delete had taken stays gone, and so does its data; the name is free for a new volume', async () => {
    const a = await host('h1');
    const v = await a.create(req('v'));
    await take('v', v.uuid); // the delete's swap took it, then the host was killed
    const b = await host('h2');
    const w = await b.create(req('v')); // the name was free meanwhile
    await host('h1');
    expect((await b.get('v'))?.uuid).toBe(w.uuid);
    expect(await fs.readdir(path.join(base, 'data'))).toEqual([w.uuid]);
    expect(await fs.readdir(path.join(base, 'meta')).then((d) => d.includes('displaced'))).toBe(false);
  });
});

describe('two hosts on one base path: a mount racing a delete', () => {
  // What host h1's remove writes before it reads the leases (vfs-driver.ts remove).
  const intent = async (name: string, uuid: string, by: string): Promise<string> => {
    const file = path.join(base, 'meta', 'deleting', name, `${by}.json`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify({ host: by, volume: name, uuid, since: new Date().toISOString() }));
    return file;
  };
  const leaseOf = (name: string, by: string): string => path.join(base, 'meta', 'leases', name, `${by}.json`);

  it('a mount that begins while another host is deleting the volume is refused and leaves no lease', async () => {
    const a = await host('h1');
    const b = await host('h2');
    const v = await a.create(req('v'));
    const file = await intent('v', v.uuid, 'h1');
    const err = await rejectionOf(b.mount('v'));
    expect(err.code).toBe('CONVOY_VOLUME_DELETING');
    expect(err.message).toMatch(/volume v is being deleted by h1 \(since /);
    expect(err.hint).toContain(file);
    await expect(fs.stat(leaseOf('v', 'h2'))).rejects.toThrow(/ENOENT/);
    await a.remove('v'); // its delete goes on: nobody mounts it
    expect(await a.get('v')).toBeUndefined();
    await expect(fs.stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('a delete that begins while another host mounts the volume is refused, and its intent does not stay behind', async () => {
    const a = await host('h1');
    const b = await host('h2');
    await a.create(req('v'));
    const mp = await b.mount('v');
    expect((await rejectionOf(a.remove('v', { force: true }))).code).toBe('CONVOY_VOLUME_IN_USE');
    expect(await fs.readdir(path.join(base, 'meta', 'deleting')).catch(() => [])).toEqual([]);
    expect((await fs.stat(mp)).isDirectory()).toBe(true);
  });

  it("a second mount on a host that already holds the volume keeps that host's lease, even while another host tries to delete it", async () => {
    const a = await host('h1');
    const b = await host('h2');
    const v = await a.create(req('v'));
    await b.mount('v');
    await intent('v', v.uuid, 'h1'); // h1's delete, between its intent and its (refused) lease check
    await b.mount('v');
    expect(JSON.parse(await fs.readFile(leaseOf('v', 'h2'), 'utf8'))).toMatchObject({ host: 'h2', uuid: v.uuid });
  });

  it('a delete killed after writing its intent does not block mounts once its host restarts', async () => {
    const a = await host('h1');
    const b = await host('h2');
    const v = await a.create(req('v'));
    await intent('v', v.uuid, 'h1');
    await host('h1'); // the restart
    await b.mount('v');
  });
});
