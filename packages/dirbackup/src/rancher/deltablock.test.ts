// Rancher Convoy v0.5.2 deltablock backups, built here the way its objectstore/deltablock.go wrote
// them (gzip of 2 MiB blocks named by the first 64 hex digits of their SHA-512, records in Go's
// JSON): restored bit for bit with holes where no block is listed; a missing or damaged block, or a
// record that does not add up, is an error naming the object and leaves no target behind. The real
// binary's stores are read in the dm guest (packages/devmapper/test/guest/rancher-deltablock.guest.test.ts).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '@convoy/objectstore/testing';
import { DELTABLOCK_SIZE as BS, deltablockChecksum, deltablockKey } from './deltablock-format.js';
import { checkRancherDeltablock, restoreRancherDeltablock } from './deltablock.js';
import { listRancherBackups } from './list.js';
import { restoreRancherBackup } from './restore.js';

const VOL = 'vol1';
const DIR = 'convoy-objectstore/volumes/vo/l1/vol1';
const NAME = 'backup-0011223344556677';
const TIME = 'Wed Dec 02 00:57:58 +0000 2026';
const SIZE = 8 * BS;

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-deltablock-'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** Block contents by index; what the volume holds (zeros elsewhere). */
function volumeImage(blocks: Map<number, Buffer>): Buffer {
  const img = Buffer.alloc(SIZE);
  for (const [i, b] of blocks) b.copy(img, i * BS);
  return img;
}

/** A store holding one deltablock backup of `blocks`, as Convoy wrote it. */
async function deltablockStore(
  blocks: Map<number, Buffer>,
  o: { record?: (r: Record<string, unknown>) => void; size?: number } = {},
): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore();
  const volume = { Name: VOL, Driver: 'devicemapper', Size: o.size ?? SIZE, CreatedTime: TIME, LastBackupName: NAME };
  const list = [...blocks].sort(([a], [b]) => a - b).map(([i, b]) => ({ Offset: i * BS, BlockChecksum: deltablockChecksum(b) }));
  for (const [, b] of blocks) await store.put(deltablockKey(VOL, deltablockChecksum(b)), gzipSync(b));
  const record: Record<string, unknown> = {
    Name: NAME,
    Driver: '',
    VolumeName: VOL,
    SnapshotName: 'snap1',
    SnapshotCreatedAt: TIME,
    CreatedTime: TIME,
    Blocks: list,
    SingleFile: { FilePath: '' },
  };
  o.record?.(record);
  await store.put(`${DIR}/volume.cfg`, Buffer.from(JSON.stringify(volume)));
  await store.put(`${DIR}/backups/backup_${NAME}.cfg`, Buffer.from(JSON.stringify(record)));
  return store;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function sample(): Map<number, Buffer> {
  const same = randomBytes(BS);
  return new Map([
    [0, randomBytes(BS)],
    [2, same],
    [3, Buffer.alloc(BS)], // a mapped block of zeros: Convoy stored and listed it
    [5, same], // the same content at two offsets: one object
    [7, Buffer.concat([Buffer.alloc(BS / 2), randomBytes(BS / 2)])],
  ]);
}

describe('a Rancher Convoy deltablock backup', () => {
  it('restores into a new file bit for bit, with holes where the backup lists no block', async () => {
    const blocks = sample();
    const store = await deltablockStore(blocks);
    expect(await listRancherBackups(store)).toMatchObject([{ name: NAME, driver: 'devicemapper', size: SIZE, snapshot: 'snap1' }]);
    const target = path.join(work, 'new.img');
    const r = await restoreRancherDeltablock({ store, volume: VOL, name: NAME, target });
    expect(r).toMatchObject({ size: SIZE, blocksWritten: 4 }); // the zero block needs neither fetch nor write
    const got = await fs.readFile(target);
    expect(sha(got)).toBe(sha(volumeImage(blocks)));
    expect((await fs.stat(target)).blocks * 512).toBeLessThanOrEqual(5 * BS); // 3 of 8 blocks are holes
  });

  it('replaces an existing file only when complete, and a backup with no blocks is all zeros', async () => {
    const target = path.join(work, 'existing.img');
    await fs.writeFile(target, randomBytes(3 * BS));
    const store = await deltablockStore(new Map(), { record: (r) => delete r.Blocks }); // Go's omitempty
    await restoreRancherDeltablock({ store, volume: VOL, name: NAME, target });
    expect(sha(await fs.readFile(target))).toBe(sha(Buffer.alloc(SIZE)));
  });

  it('with a block missing from the store is CONVOY_RANCHER_BLOCK_MISSING naming the object, never zeros', async () => {
    const blocks = sample();
    const store = await deltablockStore(blocks);
    const key = deltablockKey(VOL, deltablockChecksum(blocks.get(7)!));
    await store.delete([key]);
    const box = await fs.mkdtemp(path.join(work, 'box-'));
    const err = await restoreRancherDeltablock({ store, volume: VOL, name: NAME, target: path.join(box, 't.img') }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'CONVOY_RANCHER_BLOCK_MISSING', details: { key, backup: NAME } });
    expect((err as Error).message).toContain(key);
    expect(await fs.readdir(box)).toEqual([]); // no target, no temporary file
  });

  it('with a damaged block (other content, not gzip, not 2 MiB) is CONVOY_RANCHER_BLOCK_CORRUPT naming the object', async () => {
    const blocks = sample();
    const key = deltablockKey(VOL, deltablockChecksum(blocks.get(0)!));
    const other = randomBytes(BS);
    for (const [bytes, why] of [
      [gzipSync(other), /checksum is/],
      [Buffer.from('not gzip'), /not a gzip stream/],
      [gzipSync(Buffer.alloc(BS - 1)), /holds 2097151 bytes/],
      [gzipSync(Buffer.alloc(BS + 4096)), /more than 2 MiB/],
    ] as const) {
      const store = await deltablockStore(blocks);
      await store.put(key, bytes);
      const box = await fs.mkdtemp(path.join(work, 'box-'));
      const err = await restoreRancherDeltablock({ store, volume: VOL, name: NAME, target: path.join(box, 't.img') }).catch(
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'CONVOY_RANCHER_BLOCK_CORRUPT', details: { key } });
      expect((err as Error).message).toMatch(why);
      expect(await fs.readdir(box)).toEqual([]);
    }
  });

  it('whose record does not add up is CONVOY_RANCHER_RECORD_CORRUPT before anything is written', async () => {
    const blocks = new Map([[1, randomBytes(BS)]]);
    const cases: [(r: Record<string, unknown>) => void, RegExp][] = [
      [(r) => (r.Blocks = [{ Offset: 4096, BlockChecksum: 'a'.repeat(64) }]), /not the start of a 2 MiB block/],
      [(r) => (r.Blocks = [{ Offset: SIZE, BlockChecksum: 'a'.repeat(64) }]), /not the start of a 2 MiB block/],
      [(r) => (r.Blocks = [{ Offset: 0, BlockChecksum: 'XYZ' }]), /Blocks\[0\] is not/],
      [
        (r) =>
          (r.Blocks = [
            { Offset: BS, BlockChecksum: 'a'.repeat(64) },
            { Offset: BS, BlockChecksum: 'b'.repeat(64) },
          ]),
        /does not follow/,
      ],
    ];
    for (const [edit, why] of cases) {
      const store = await deltablockStore(blocks, { record: edit });
      const err = await checkRancherDeltablock(store, VOL, NAME).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CONVOY_RANCHER_RECORD_CORRUPT' });
      expect((err as Error).message).toMatch(why);
    }
    const odd = await deltablockStore(blocks, { size: SIZE + 4096 });
    await expect(checkRancherDeltablock(odd, VOL, NAME)).rejects.toMatchObject({ code: 'CONVOY_RANCHER_RECORD_CORRUPT' });
  });

  it('is a block image: restoring it into a directory is CONVOY_BACKUP_INCOMPATIBLE, and a vfs backup is refused the other way', async () => {
    const store = await deltablockStore(sample());
    await expect(restoreRancherBackup({ store, volume: VOL, name: NAME, target: path.join(work, 'dir') })).rejects.toMatchObject({
      code: 'CONVOY_BACKUP_INCOMPATIBLE',
    });
    const vfs = new MemoryObjectStore();
    await vfs.put(`${DIR}/volume.cfg`, Buffer.from(JSON.stringify({ Name: VOL, Driver: 'vfs', Size: 0, CreatedTime: TIME })));
    await vfs.put(
      `${DIR}/backups/backup_${NAME}.cfg`,
      Buffer.from(
        JSON.stringify({
          Name: NAME,
          Driver: '',
          VolumeName: VOL,
          SnapshotName: 's',
          CreatedTime: TIME,
          SingleFile: { FilePath: `${DIR}/BackupFiles/${NAME}.bak` },
        }),
      ),
    );
    await expect(checkRancherDeltablock(vfs, VOL, NAME)).rejects.toMatchObject({ code: 'CONVOY_BACKUP_INCOMPATIBLE' });
    await expect(checkRancherDeltablock(vfs, VOL, 'backup-ffffffffffffffff')).rejects.toMatchObject({ code: 'CONVOY_BACKUP_NOT_FOUND' });
  });
});
