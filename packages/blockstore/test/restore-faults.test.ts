import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryObjectStore, rejectionOf } from '@convoy/objectstore/testing';
import { backupVolume } from '../src/backup.js';
import { acquireLock } from '../src/lock.js';
import { restoreBackup } from '../src/restore.js';
import { writeFully, type PositionalWriter } from '../src/restore-target.js';
import { openFileSize, type StatHandle } from '../src/source.js';
import { BufferSource, MiB } from '../src/test-helpers.js';
import { keysUnder } from './helpers.js';
import { LockWatchStore, attachLoop, deadPid, detachLoop, loopDevicesUsable, readRange } from './restore-faults-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-restore-faults-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A fresh directory for one test, so listings see only its own files. */
const subdir = (name: string): Promise<string> => fs.mkdir(path.join(dir, name)).then(() => path.join(dir, name));

async function backupOf(store: MemoryObjectStore, data: Buffer, volume = 'v'): Promise<string> {
  return (await backupVolume({ store, volume, source: new BufferSource(data) })).manifest.id;
}

describe('restore takes its lock before it reads the backup', () => {
  it('a backup deleted while its restore waited for the lock is not found, never restored from missing blocks', async () => {
    const store = new LockWatchStore();
    const id = await backupOf(store, randomBytes(5 * MiB));
    const deleting = await acquireLock(store, { kind: 'delete' });
    const waiting = store.restoreLockWritten();
    const d = await subdir('deleted');
    const restore = rejectionOf(restoreBackup({ store, volume: 'v', id, target: path.join(d, 'out.img') }));
    await waiting;
    // what a delete does under its lock: the manifest and its block map, then GC of the blocks
    await store.delete([...(await keysUnder(store, 'volumes/v/')), ...(await keysUnder(store, 'blocks/'))]);
    await deleting.release();
    expect((await restore).code).toBe('CONVOY_BACKUP_NOT_FOUND');
    expect(await fs.readdir(d)).toEqual([]);
    expect(await keysUnder(store, 'locks/')).toEqual([]);
  });

  it('a restore that fails under its lock releases it and leaves the target as it was', async () => {
    const store = new MemoryObjectStore();
    const id = await backupOf(store, randomBytes(3 * MiB));
    await store.delete(await keysUnder(store, 'volumes/v/backups/'));
    const d = await subdir('missing');
    const existing = path.join(d, 'existing.img');
    const before = randomBytes(MiB);
    await fs.writeFile(existing, before);
    for (const [target, incremental] of [
      [existing, true],
      [existing, false],
      [path.join(d, 'new.img'), false],
    ] as const) {
      const err = await rejectionOf(restoreBackup({ store, volume: 'v', id, target, incremental }));
      expect(err.code).toBe('CONVOY_BACKUP_NOT_FOUND'); // not "the target is incomplete": nothing was written
      expect(await keysUnder(store, 'locks/')).toEqual([]);
      expect(await fs.readdir(d)).toEqual(['existing.img']);
      expect(sha(await fs.readFile(existing))).toBe(sha(before));
    }
  });
});

describe('restore to a block device checks its size', () => {
  const device = (rdev: number, size = 0): StatHandle => ({ stat: async () => ({ size, rdev, isBlockDevice: () => true }) });

  it('the size of an open block device is read from sysfs by its major:minor, not from fstat (which says 0)', async () => {
    const read = vi.fn(async (file: string): Promise<string> => (file === '/sys/dev/block/253:3/size' ? '8192\n' : ''));
    expect(await openFileSize(device(253 * 256 + 3), read)).toBe(4 * MiB);
    // minor numbers above 255 are split across rdev (Linux new_encode_dev): 8:300
    read.mockImplementation(async (file: string) => (file === '/sys/dev/block/8:300/size' ? '2048' : ''));
    expect(await openFileSize(device((300 & 0xff) | (8 << 8) | ((300 & ~0xff) << 12)), read)).toBe(MiB);
  });

  it('the size of an open regular file is its stat size, without reading sysfs', async () => {
    const read = vi.fn(async () => '1');
    expect(await openFileSize({ stat: async () => ({ size: 12345, rdev: 0, isBlockDevice: () => false }) }, read)).toBe(12345);
    expect(read).not.toHaveBeenCalled();
    const fh = await fs.open(path.join(dir, 'sized.img'), 'w+');
    await fh.truncate(3 * MiB + 7);
    expect(await openFileSize(fh)).toBe(3 * MiB + 7);
    await fh.close();
  });

  it('a device size sysfs cannot give (unreadable, not a number, empty) is CONVOY_DEVICE_SIZE_UNKNOWN, never 0', async () => {
    const enoent = async (): Promise<string> => {
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    };
    for (const read of [enoent, async () => 'garbage', async () => '', async () => '-1']) {
      const err = await rejectionOf(openFileSize(device(7 << 8), read));
      expect(err.code).toBe('CONVOY_DEVICE_SIZE_UNKNOWN');
      expect(err.message).toContain('7:0');
    }
  });

  // Real block devices: loop devices, where the host lets root attach them (else the unit tests above stand in).
  describe.skipIf(!loopDevicesUsable)('on a loop device', () => {
    async function withLoop(name: string, size: number, fill: number, work: (dev: string) => Promise<void>): Promise<void> {
      const backing = path.join(dir, name);
      await fs.writeFile(backing, Buffer.alloc(size, fill));
      const dev = await attachLoop(backing);
      try {
        await work(dev);
      } finally {
        await detachLoop(dev);
      }
    }

    it('a restore onto a device smaller than the backup is CONVOY_TARGET_INVALID and writes nothing', async () => {
      const store = new MemoryObjectStore();
      const id = await backupOf(store, randomBytes(4 * MiB));
      await withLoop('small.img', 2 * MiB, 0xab, async (dev) => {
        const err = await rejectionOf(restoreBackup({ store, volume: 'v', id, target: dev }));
        expect(err.code).toBe('CONVOY_TARGET_INVALID');
        expect(err.message).toContain(`${2 * MiB} bytes`);
        expect((await readRange(dev, 0, 2 * MiB)).equals(Buffer.alloc(2 * MiB, 0xab))).toBe(true);
        expect(await keysUnder(store, 'locks/')).toEqual([]);
      });
    });

    it('a restore onto a larger device writes every block of the backup, zero blocks included, and leaves the rest', async () => {
      const store = new MemoryObjectStore();
      const data = Buffer.concat([randomBytes(2 * MiB), Buffer.alloc(2 * MiB), randomBytes(MiB + 100)]);
      const id = await backupOf(store, data);
      await withLoop('large.img', 8 * MiB, 0xab, async (dev) => {
        await restoreBackup({ store, volume: 'v', id, target: dev });
        expect(sha(await readRange(dev, 0, data.length))).toBe(sha(data));
        expect((await readRange(dev, data.length, 8 * MiB - data.length)).equals(Buffer.alloc(8 * MiB - data.length, 0xab))).toBe(true);
      });
    });
  });
});

describe('restore writes every byte, whatever a single write takes', () => {
  /** A file in memory whose writes take at most `step` bytes (0: nothing). */
  function pieceWriter(size: number, step: number): PositionalWriter & { file: Buffer; calls: number } {
    const w = {
      file: Buffer.alloc(size),
      calls: 0,
      write: async (buffer: Buffer, offset: number, length: number, position: number) => {
        w.calls++;
        const n = Math.min(step, length);
        buffer.copy(w.file, position, offset, offset + n);
        return { bytesWritten: n };
      },
    };
    return w;
  }

  it('writeFully writes the rest when a write takes fewer bytes than asked', async () => {
    const w = pieceWriter(40, 3);
    const data = randomBytes(29);
    await writeFully(w, data, 7);
    expect(w.file.subarray(7, 36).equals(data)).toBe(true);
    expect(w.file.subarray(0, 7).equals(Buffer.alloc(7))).toBe(true);
    expect(w.file.subarray(36).equals(Buffer.alloc(4))).toBe(true);
    expect(w.calls).toBe(10);
  });

  it('writeFully fails with CONVOY_TARGET_WRITE_FAILED, naming the offset, when a write takes nothing', async () => {
    const w = pieceWriter(16, 0);
    const err = await rejectionOf(writeFully(w, randomBytes(8), 5, 'out.img'));
    expect(err.code).toBe('CONVOY_TARGET_WRITE_FAILED');
    expect(err.message).toMatch(/out\.img at byte 5/);
    expect(w.calls).toBe(1);
  });

  it('a restore whose file writes come back short still restores bit-exact', async () => {
    const store = new MemoryObjectStore();
    const data = Buffer.concat([randomBytes(4 * MiB), Buffer.alloc(2 * MiB), randomBytes(MiB + 123)]);
    const id = await backupOf(store, data);
    const target = path.join(dir, 'short-writes.img');
    const probe = await fs.open(path.join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as PositionalWriter;
    await probe.close();
    const realWrite = proto.write;
    let writes = 0;
    const short = vi.spyOn(proto, 'write').mockImplementation(function (this: PositionalWriter, buffer, offset, length, position) {
      writes++;
      return realWrite.call(this, buffer, offset, Math.min(length, 100_001), position);
    });
    try {
      await restoreBackup({ store, volume: 'v', id, target });
    } finally {
      short.mockRestore();
    }
    expect(writes).toBeGreaterThanOrEqual(Math.ceil((5 * MiB + 123) / 100_001)); // the non-zero blocks did go in pieces
    expect(sha(await fs.readFile(target))).toBe(sha(data));
  });
});

describe('restore temp files', () => {
  it('a restore writes into .<target>.convoy-restore-<pid>-<random> beside the target, then renames it', async () => {
    const store = new MemoryObjectStore();
    const data = randomBytes(3 * MiB);
    const id = await backupOf(store, data);
    const d = await subdir('temp-name');
    const seen = new Set<string>();
    await restoreBackup({
      store,
      volume: 'v',
      id,
      target: path.join(d, 'out.img'),
      onProgress: () => readdirSync(d).forEach((n) => seen.add(n)),
    });
    expect([...seen].filter((n) => n !== 'out.img')).toEqual([
      expect.stringMatching(new RegExp(`^\\.out\\.img\\.convoy-restore-${process.pid}-[0-9a-f]+$`)),
    ]);
    expect(await fs.readdir(d)).toEqual(['out.img']);
    expect(sha(await fs.readFile(path.join(d, 'out.img')))).toBe(sha(data));
  });

  it('a restore removes the temp files of its target that dead processes left, and keeps those of live processes, older unnamed ones and other targets', async () => {
    const store = new MemoryObjectStore();
    const data = randomBytes(MiB);
    const id = await backupOf(store, data);
    const d = await subdir('stale');
    const dead = deadPid();
    const stale = `.out.img.convoy-restore-${dead}-0badc0de`;
    const keep = [
      `.out.img.convoy-restore-${process.pid}-1234abcd`, // a restore of this process still running
      `.out.img.convoy-restore-1a2b3c4d`, // an older version's name: its writer is unknown
      `.other.img.convoy-restore-${dead}-0badc0de`, // another target's
      `.out.img.convoy-restore-${dead}-0badc0de.bak`, // not a temp file name
    ];
    for (const name of [stale, ...keep]) await fs.writeFile(path.join(d, name), 'x');
    await restoreBackup({ store, volume: 'v', id, target: path.join(d, 'out.img') });
    expect((await fs.readdir(d)).sort()).toEqual([...keep, 'out.img'].sort());
    expect(sha(await fs.readFile(path.join(d, 'out.img')))).toBe(sha(data));
  });
});
