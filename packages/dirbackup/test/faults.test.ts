// A directory backup that fails at any write (a crash, a store error) leaves every committed backup
// intact and nothing a later backup or maintenance trips over.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackupIds, runMaintenance, verifyStore } from '@convoy/blockstore';
import { FaultyObjectStore, MemoryObjectStore } from '@convoy/objectstore/testing';
import { backupDirectory, restoreDirectory } from '../src/index.js';
import { describeTree, noise, OLD_NS } from './tree.js';
import { setMtimeNs } from '../src/native.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-dirbackup-faults-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('faults', () => {
  it('an incremental failing at each of its writes in turn leaves the store verifiable, and the next backup restores exactly', async () => {
    const src = path.join(dir, 'src');
    await fs.mkdir(path.join(src, 'a'), { recursive: true });
    for (let i = 0; i < 30; i++) await fs.writeFile(path.join(src, 'a', `f${i}`), noise(3000, i + 1));
    await fs.writeFile(path.join(src, 'big'), noise(1_500_000, 99));
    for (const f of await fs.readdir(path.join(src, 'a'))) setMtimeNs(path.join(src, 'a', f), OLD_NS);
    const base = new MemoryObjectStore();
    await backupDirectory({ store: base, volume: 'v', dir: src, packs: { packBytes: 32 * 1024 } });
    await fs.writeFile(path.join(src, 'a', 'f3'), noise(5000, 1234));
    await fs.appendFile(path.join(src, 'big'), noise(100_000, 7));

    // how many writes a clean incremental makes
    const probe = new FaultyObjectStore(await copyStore(base));
    await backupDirectory({ store: probe, volume: 'v', dir: src, packs: { packBytes: 32 * 1024 } });
    const writes = probe.calls.put;
    expect(writes).toBeGreaterThan(5);

    for (let n = 1; n <= writes; n++) {
      const inner = await copyStore(base);
      const faulty = new FaultyObjectStore(inner, [{ op: 'put', nth: n, kind: n % 2 === 0 ? 'error' : 'lost-ack' }]);
      const outcome = await backupDirectory({ store: faulty, volume: 'v', dir: src, packs: { packBytes: 32 * 1024 } }).then(
        () => 'ok',
        () => 'failed',
      );
      const v = await verifyStore({ store: inner });
      expect(v.problems, `write ${n} (${outcome})`).toEqual([]);
      await runMaintenance({ store: inner, full: true, graceMs: 0 });
      const { manifest } = await backupDirectory({ store: inner, volume: 'v', dir: src, packs: { packBytes: 32 * 1024 } });
      const out = path.join(dir, `out-${n}`);
      await restoreDirectory({ store: inner, volume: 'v', id: manifest.id, target: out });
      expect(await describeTree(out)).toEqual(await describeTree(src));
      await fs.rm(out, { recursive: true });
      expect((await listBackupIds(inner, 'v')).length).toBeGreaterThanOrEqual(2);
      expect((await verifyStore({ store: inner, readData: true })).ok, `write ${n}`).toBe(true);
    }
  });
  it('a restore that fails part-way leaves no partial tree: the target is absent (or still empty) and no temporary directory is left', async () => {
    const src = path.join(dir, 'src2');
    await fs.mkdir(path.join(src, 'd'), { recursive: true });
    for (let i = 0; i < 20; i++) await fs.writeFile(path.join(src, 'd', `f${i}`), noise(700_000, 300 + i)); // loose chunks: one get each
    const inner = new MemoryObjectStore();
    const { manifest } = await backupDirectory({ store: inner, volume: 'v', dir: src });
    const parent = path.join(dir, 'restores');
    await fs.mkdir(parent);
    for (const existing of [false, true]) {
      const target = path.join(parent, existing ? 'empty' : 'new');
      if (existing) await fs.mkdir(target);
      const store = new FaultyObjectStore(inner, [{ op: 'get', key: /^blocks\//, nth: 10, kind: 'error' }]);
      await expect(restoreDirectory({ store, volume: 'v', id: manifest.id, target })).rejects.toThrow();
      expect(await fs.readdir(parent)).toEqual(existing ? ['empty'] : []);
      if (existing) expect(await fs.readdir(target)).toEqual([]);
      await restoreDirectory({ store: inner, volume: 'v', id: manifest.id, target });
      expect(await describeTree(target)).toEqual(await describeTree(src));
      await fs.rm(target, { recursive: true });
    }
  });
  it("a restore removes the partial tree a killed restore of the same target left, and keeps a running one's", async () => {
    const src = path.join(dir, 'src4');
    await fs.mkdir(path.join(src, 'd'), { recursive: true });
    await fs.writeFile(path.join(src, 'd', 'f'), noise(5000, 41));
    const store = new MemoryObjectStore();
    const { manifest } = await backupDirectory({ store, volume: 'v', dir: src });
    const parent = path.join(dir, 'killed');
    await fs.mkdir(parent);
    // A pid no process has (above pid_max) stands for the killed restore; ours for a running one.
    const killed = path.join(parent, '.out.convoy-restore-99999999-0a0b0c0d');
    const running = path.join(parent, `.out.convoy-restore-${process.pid}-01020304`);
    for (const d of [killed, running]) {
      await fs.mkdir(path.join(d, 'partial'), { recursive: true, mode: 0o700 });
      await fs.writeFile(path.join(d, 'partial', 'half-written'), 'x');
    }
    await restoreDirectory({ store, volume: 'v', id: manifest.id, target: path.join(parent, 'out') });
    expect((await fs.readdir(parent)).sort()).toEqual([path.basename(running), 'out']);
    expect(await describeTree(path.join(parent, 'out'))).toEqual(await describeTree(src));
  });
  it.skipIf(process.geteuid?.() !== 0)(
    'a target that is a mount point (an empty, freshly mounted filesystem) is restored in place',
    async () => {
      const src = path.join(dir, 'src3');
      await fs.mkdir(path.join(src, 'sub'), { recursive: true });
      await fs.writeFile(path.join(src, 'sub', 'a'), 'aaa');
      const store = new MemoryObjectStore();
      const { manifest } = await backupDirectory({ store, volume: 'v', dir: src });
      const mnt = path.join(dir, 'mnt');
      await fs.mkdir(mnt);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt]);
      try {
        await restoreDirectory({ store, volume: 'v', id: manifest.id, target: mnt });
        expect(await describeTree(mnt)).toEqual(await describeTree(src));
        expect(await fs.readdir(dir)).not.toContainEqual(expect.stringMatching(/convoy-restore/));
      } finally {
        execFileSync('umount', [mnt]);
      }
    },
  );
});

/** A copy of an in-memory store (each trial starts from the same committed backup). */
async function copyStore(src: MemoryObjectStore): Promise<MemoryObjectStore> {
  const out = new MemoryObjectStore();
  for await (const o of src.list('')) await out.put(o.key, await src.get(o.key));
  return out;
}
