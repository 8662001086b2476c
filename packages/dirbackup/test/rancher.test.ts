// Rancher Convoy v0.5.2 vfs backup stores: real ones made by the original binary read back bit for
// bit from a filesystem store and from S3 (the same keys under a bucket prefix); hostile archives
// (.., absolute paths, writes through symlinks, links out of the tree) are refused with nothing
// written outside the target; damaged records are errors, never "absent".
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash, randomBytes } from 'node:crypto';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore, type ObjectStore } from '@convoy/objectstore';
import {
  DELTABLOCK_SIZE,
  deltablockChecksum,
  deltablockKey,
  listRancherBackups,
  restoreRancherBackup,
  restoreRancherDeltablock,
} from '../src/index.js';
import { makeRancherStore, readTree, type RancherStore } from '../../../tools/vitest/rancher-convoy.js';
import { allStores } from './stores.js';

let work: string;
let rs: RancherStore;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-rancher-'));
  rs = await makeRancherStore(work);
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** Every file of the store Convoy wrote, put under the same keys into `store`. */
async function copyStore(store: ObjectStore): Promise<void> {
  const files = await fs.readdir(rs.storeDir, { recursive: true, withFileTypes: true });
  for (const f of files.filter((e) => e.isFile())) {
    const abs = path.join(f.parentPath, f.name);
    await store.put(path.relative(rs.storeDir, abs), await fs.readFile(abs));
  }
}

describe.each(allStores().map((k) => [k.name, k] as const))('a store Rancher Convoy v0.5.2 wrote, on %s', (_name, kind) => {
  it('lists its backups and restores each bit for bit (content, modes, subdirectories, symlinks)', async () => {
    const store = await kind.create();
    try {
      await copyStore(store);
      const list = await listRancherBackups(store);
      expect(list.map((b) => [b.volume, b.name, b.snapshot, b.driver]).sort()).toEqual(
        rs.volumes.map((v) => [v.name, v.backup, v.snapshot, 'vfs']).sort(),
      );
      expect(await listRancherBackups(store, { volume: 'ab' })).toHaveLength(1);
      for (const v of rs.volumes) {
        const target = path.join(work, `restored-${kind.name.replace(/\W/g, '')}-${v.name}`);
        const r = await restoreRancherBackup({ store, volume: v.name, name: v.backup, target });
        expect(r.files).toBe(4);
        expect(await readTree(target)).toEqual(await readTree(v.dir));
      }
    } finally {
      await store.close();
    }
  });
});

describe.each(allStores().map((k) => [k.name, k] as const))('a Rancher Convoy devicemapper (deltablock) backup, on %s', (_name, kind) => {
  it('restores into a file bit for bit through the store interface (range of blocks, zeros, repeats)', async () => {
    const store = await kind.create();
    try {
      const bs = DELTABLOCK_SIZE;
      const repeated = randomBytes(bs);
      const blocks = new Map([
        [0, randomBytes(bs)],
        [1, repeated],
        [2, Buffer.alloc(bs)],
        [4, repeated],
      ]);
      const dir = 'convoy-objectstore/volumes/db/!!/db!!';
      const time = 'Wed Dec 02 00:57:58 +0000 2026';
      for (const b of blocks.values()) await store.put(deltablockKey('db', deltablockChecksum(b)), gzipSync(b));
      await store.put(
        `${dir}/volume.cfg`,
        Buffer.from(JSON.stringify({ Name: 'db', Driver: 'devicemapper', Size: 6 * bs, CreatedTime: time })),
      );
      const record = {
        Name: 'backup-aaaabbbbccccdddd',
        Driver: '',
        VolumeName: 'db',
        SnapshotName: 's',
        SnapshotCreatedAt: time,
        CreatedTime: time,
        Blocks: [...blocks].map(([i, b]) => ({ Offset: i * bs, BlockChecksum: deltablockChecksum(b) })),
        SingleFile: { FilePath: '' },
      };
      await store.put(`${dir}/backups/backup_backup-aaaabbbbccccdddd.cfg`, Buffer.from(JSON.stringify(record)));
      expect(await listRancherBackups(store)).toMatchObject([{ volume: 'db', driver: 'devicemapper', size: 6 * bs }]);
      const target = path.join(work, `deltablock-${kind.name.replace(/\W/g, '')}.img`);
      const r = await restoreRancherDeltablock({ store, volume: 'db', name: 'backup-aaaabbbbccccdddd', target });
      expect(r).toMatchObject({ size: 6 * bs, blocksWritten: 3 });
      const want = Buffer.alloc(6 * bs);
      for (const [i, b] of blocks) b.copy(want, i * bs);
      const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
      expect(sha(await fs.readFile(target))).toBe(sha(want));
    } finally {
      await store.close();
    }
  });
});

interface Entry {
  name: string;
  type?: tar.Header['type'];
  linkname?: string;
  body?: string;
}

function targz(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: 0o644 }, e.body ?? '');
  pack.finalize();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
    pack.on('end', () => resolve(gzipSync(Buffer.concat(chunks))));
    pack.on('error', reject);
  });
}

const NAME = 'backup-00112233445566aa';
const VOL = 'evil';
const dirKey = 'convoy-objectstore/volumes/ev/il/evil';
const volumeCfg = { Name: VOL, Driver: 'vfs', Size: 0, CreatedTime: 'Wed Dec 02 00:57:56 +0000 2026', LastBackupName: '' };
const backupCfg = {
  Name: NAME,
  Driver: '',
  VolumeName: VOL,
  SnapshotName: 's',
  SnapshotCreatedAt: 'Wed Dec 02 00:57:56 +0000 2026',
  CreatedTime: 'Wed Dec 02 00:57:58 +0000 2026',
  SingleFile: { FilePath: `${dirKey}/BackupFiles/${NAME}.bak` },
};

/** A store holding one crafted backup; `box` is an empty directory whose only child may be the target. */
async function crafted(
  archive: Buffer,
  o: { backup?: string; volume?: object } = {},
): Promise<{ store: ObjectStore; box: string; target: string }> {
  const box = await fs.mkdtemp(path.join(work, 'box-'));
  const store = await new FsObjectStore(await fs.mkdtemp(path.join(work, 'store-'))).open();
  await store.put(`${dirKey}/volume.cfg`, Buffer.from(JSON.stringify(o.volume ?? volumeCfg)));
  await store.put(`${dirKey}/backups/backup_${NAME}.cfg`, Buffer.from(o.backup ?? JSON.stringify(backupCfg)));
  await store.put(`${dirKey}/BackupFiles/${NAME}.bak`, archive);
  return { store, box, target: path.join(box, 'target') };
}

async function expectRefused(archive: Buffer, code: string, o: { owners?: boolean } = {}): Promise<string> {
  const { store, box, target } = await crafted(archive);
  const err = await restoreRancherBackup({ store, volume: VOL, name: NAME, target, owners: o.owners }).catch((e: unknown) => e);
  expect(err).toMatchObject({ code });
  expect(await fs.readdir(box)).toEqual([]); // neither the target nor anything beside it
  return box;
}

describe('a hostile Rancher Convoy archive', () => {
  it('with a ../ entry is refused, and nothing is written outside the target', async () => {
    const box = await expectRefused(
      await targz([{ name: './', type: 'directory' }, { name: './ok.txt' }, { name: '../evil', body: 'x' }]),
      'CONVOY_RANCHER_ARCHIVE_UNSAFE',
    );
    await expect(fs.stat(path.join(path.dirname(box), 'evil'))).rejects.toThrow();
  });

  it('with an absolute path is refused, and that path is not written', async () => {
    const abs = path.join(work, 'abs-evil');
    await expectRefused(await targz([{ name: './ok.txt' }, { name: abs, body: 'x' }]), 'CONVOY_RANCHER_ARCHIVE_UNSAFE');
    await expect(fs.stat(abs)).rejects.toThrow();
  });

  it('that writes through a symlink it planted is refused, and the symlink target stays untouched', async () => {
    const outside = await fs.mkdtemp(path.join(work, 'outside-'));
    await expectRefused(
      await targz([
        { name: './l', type: 'symlink', linkname: outside },
        { name: './l/x', body: 'x' },
      ]),
      'CONVOY_RANCHER_ARCHIVE_UNSAFE',
    );
    expect(await fs.readdir(outside)).toEqual([]);
  });

  it('that replaces a symlink with a file, or hard-links outside the tree, is refused', async () => {
    const outside = path.join(work, 'outside-file');
    await fs.writeFile(outside, 'keep');
    await expectRefused(
      await targz([
        { name: 'l', type: 'symlink', linkname: outside },
        { name: 'l', body: 'x' },
      ]),
      'CONVOY_RANCHER_ARCHIVE_UNSAFE',
    );
    await expectRefused(await targz([{ name: 'h', type: 'link', linkname: '../../outside-file' }]), 'CONVOY_RANCHER_ARCHIVE_UNSAFE');
    await expectRefused(await targz([{ name: 'h', type: 'link', linkname: outside }]), 'CONVOY_RANCHER_ARCHIVE_UNSAFE');
    expect(await fs.readFile(outside, 'utf8')).toBe('keep');
  });

  it('with a device node is refused unless owners (root) are restored', async () => {
    await expectRefused(await targz([{ name: 'null', type: 'character-device' }]), 'CONVOY_TARGET_WRITE_FAILED', { owners: false });
  });

  it('that is truncated or not gzip is CONVOY_RANCHER_ARCHIVE_CORRUPT', async () => {
    const good = await targz([{ name: 'a', body: 'y'.repeat(100_000) }]);
    await expectRefused(good.subarray(0, good.length >> 1), 'CONVOY_RANCHER_ARCHIVE_CORRUPT');
    await expectRefused(Buffer.from('not a gzip stream'), 'CONVOY_RANCHER_ARCHIVE_CORRUPT');
  });
});

describe('damaged or unsupported Rancher Convoy records', () => {
  it('a garbled backup .cfg is CONVOY_RANCHER_RECORD_CORRUPT for restore and list, never "no backup"', async () => {
    for (const bad of [
      '{"Name": "backup-00',
      JSON.stringify({ ...backupCfg, CreatedTime: 'yesterday' }),
      JSON.stringify({ ...backupCfg, VolumeName: 'other' }),
    ]) {
      const { store, target } = await crafted(await targz([{ name: 'a' }]), { backup: bad });
      await expect(restoreRancherBackup({ store, volume: VOL, name: NAME, target })).rejects.toMatchObject({
        code: 'CONVOY_RANCHER_RECORD_CORRUPT',
      });
      await expect(listRancherBackups(store)).rejects.toMatchObject({ code: 'CONVOY_RANCHER_RECORD_CORRUPT' });
      const problems: Error[] = [];
      expect(await listRancherBackups(store, { onProblem: (e) => problems.push(e) })).toEqual([]);
      expect(problems).toHaveLength(1);
    }
  });

  it('a devicemapper (deltablock) backup is listed, and restoring it into a directory is CONVOY_BACKUP_INCOMPATIBLE', async () => {
    const { store, target } = await crafted(Buffer.alloc(0), {
      volume: { ...volumeCfg, Driver: 'devicemapper', Size: 1 << 30 },
      backup: JSON.stringify({ ...backupCfg, Driver: 'devicemapper', SingleFile: { FilePath: '' }, Blocks: [] }),
    });
    expect(await listRancherBackups(store)).toMatchObject([
      { name: NAME, driver: 'devicemapper', size: 1 << 30, created: '2026-12-02T00:57:58.000Z' },
    ]);
    await expect(restoreRancherBackup({ store, volume: VOL, name: NAME, target })).rejects.toMatchObject({
      code: 'CONVOY_BACKUP_INCOMPATIBLE',
    });
  });
});
