// A vfs volume made from a snapshot, and a volume rolled back to one of its snapshots in place
// (`convoy snapshot restore`): what it does, what it refuses, and what a kill at each of its steps
// leaves after the restart (rollback.ts).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf } from '@convoy/objectstore/testing';
import { VfsDriver } from '../src/index.js';

let base: string;
let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-vfs-rollback-'));
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

/** Every file under `dir` with its content (symlinks as `-> target`), sorted. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    const rel = path.relative(dir, p);
    if (e.isSymbolicLink()) out[rel] = `-> ${await fs.readlink(p)}`;
    else if (e.isFile()) out[rel] = await fs.readFile(p, 'utf8');
    else out[`${rel}/`] = '';
  }
  return out;
}

/** A volume with a snapshot of { a, sub/b, link }, then changed: a rewritten, c added, sub/b removed. */
async function changedAfterSnapshot(d: VfsDriver, name = 'v'): Promise<{ dir: string; snapshot: Record<string, string> }> {
  const info = await d.create(req(name));
  const dir = String(info.status?.path);
  await fs.writeFile(path.join(dir, 'a'), 'a at the snapshot');
  await fs.mkdir(path.join(dir, 'sub'));
  await fs.writeFile(path.join(dir, 'sub', 'b'), 'b at the snapshot');
  await fs.symlink('sub/b', path.join(dir, 'link'));
  const snapshot = await tree(dir);
  await d.snapshotCreate(name, { name: `${name}-s1`, uuid: randomUUID() });
  await fs.writeFile(path.join(dir, 'a'), 'a changed later');
  await fs.writeFile(path.join(dir, 'c'), 'added later');
  await fs.rm(path.join(dir, 'sub', 'b'));
  return { dir, snapshot };
}

describe('a vfs volume from a snapshot', () => {
  it('is a copy of the snapshot, independent of the volume and of the snapshot', async () => {
    const d = await host('h1');
    const { dir, snapshot } = await changedAfterSnapshot(d);
    const copy = await d.create({ ...req('copy'), fromSnapshot: { volume: 'v', snapshot: 'v-s1' } });
    const copyDir = String(copy.status?.path);
    expect(await tree(copyDir)).toEqual(snapshot);
    expect(copy.state).toBeUndefined();
    await fs.writeFile(path.join(copyDir, 'a'), 'the copy changed');
    expect(await fs.readFile(path.join(dir, 'a'), 'utf8')).toBe('a changed later');
    const again = await d.create({ ...req('copy2'), fromSnapshot: { volume: 'v', snapshot: 'v-s1' } });
    expect(await tree(String(again.status?.path))).toEqual(snapshot);
  });

  it('from a snapshot that does not exist: an error, and no volume', async () => {
    const d = await host('h1');
    await d.create(req('v'));
    const err = await rejectionOf(d.create({ ...req('copy'), fromSnapshot: { volume: 'v', snapshot: 'nope' } }));
    expect(err.code).toBe('CONVOY_SNAPSHOT_NOT_FOUND');
    expect(await d.get('copy')).toBeUndefined();
  });
});

describe('rolling a vfs volume back to its snapshot', () => {
  it('gives back exactly the snapshot (later files gone, removed ones back), same volume, other snapshots kept', async () => {
    const d = await host('h1');
    const { dir, snapshot } = await changedAfterSnapshot(d);
    const later = await tree(dir);
    await d.snapshotCreate('v', { name: 'v-s2', uuid: randomUUID() });
    const before = await d.get('v');
    await d.snapshotRestore('v', 'v-s1');
    expect(await tree(dir)).toEqual(snapshot);
    expect((await d.get('v'))?.uuid).toBe(before?.uuid);
    expect((await d.snapshotList('v')).map((s) => s.name)).toEqual(['v-s1', 'v-s2']);
    // and forward again, to the later snapshot; nothing is left in the trash
    await d.snapshotRestore('v', 'v-s2');
    expect(await tree(dir)).toEqual(later);
    expect(await fs.readdir(path.join(base, 'trash', 'host-h1'))).toEqual([]);
  });

  it('is refused while this host or another mounts the volume; the data stays', async () => {
    const a = await host('h1');
    const b = await host('h2');
    const { dir } = await changedAfterSnapshot(a);
    const now = await tree(dir);
    await a.mount('v');
    expect(await rejectionOf(a.snapshotRestore('v', 'v-s1'))).toMatchObject({
      code: 'CONVOY_VOLUME_IN_USE',
      message: expect.stringMatching(/mounted on this host/),
    });
    expect(await rejectionOf(b.snapshotRestore('v', 'v-s1'))).toMatchObject({
      code: 'CONVOY_VOLUME_IN_USE',
      message: expect.stringMatching(/mounted on h1/),
    });
    expect(await tree(dir)).toEqual(now);
    await a.unmount('v');
    await b.snapshotRestore('v', 'v-s1');
    // and the mount works again afterwards (the intent that kept mounts out is gone)
    expect(await a.mount('v')).toBe(dir);
  });

  it('a snapshot that does not exist is an error that changes nothing', async () => {
    const d = await host('h1');
    const { dir } = await changedAfterSnapshot(d);
    const now = await tree(dir);
    expect((await rejectionOf(d.snapshotRestore('v', 'nope'))).code).toBe('CONVOY_SNAPSHOT_NOT_FOUND');
    expect(await tree(dir)).toEqual(now);
  });
});

describe('a rollback killed at each step, then the restart', () => {
  /** The states a kill leaves: the copy staged in the trash, the intent written, the data moved aside. */
  async function killedAt(
    step: 'copied' | 'intent' | 'moved' | 'moved-no-copy',
  ): Promise<{ dir: string; now: Record<string, string>; snapshot: Record<string, string> }> {
    const d = await host('h1');
    const { dir, snapshot } = await changedAfterSnapshot(d);
    const now = await tree(dir);
    const uuid = String((await d.get('v'))?.uuid);
    const snapUuid = (await d.snapshotList('v'))[0]?.uuid ?? '';
    const trash = path.join(base, 'trash', 'host-h1');
    const staged = path.join(trash, `rollback-${uuid}-new`);
    await fs.cp(path.join(base, 'snapshots', snapUuid), staged, { recursive: true, verbatimSymlinks: true });
    if (step !== 'copied')
      await fs.writeFile(path.join(trash, `rollback-${uuid}.json`), JSON.stringify({ volume: 'v', uuid, snapshot: 'v-s1' }));
    if (step === 'moved' || step === 'moved-no-copy') await fs.rename(dir, path.join(trash, `rollback-${uuid}-old`));
    if (step === 'moved-no-copy') await fs.rm(staged, { recursive: true });
    return { dir, now, snapshot };
  }

  it('after the copy, before the intent: the volume is as it was, and the copy goes', async () => {
    const { dir, now } = await killedAt('copied');
    await host('h1');
    expect(await tree(dir)).toEqual(now);
    expect(await fs.readdir(path.join(base, 'trash', 'host-h1'))).toEqual([]);
  });

  it('after the intent, before the renames: the volume is as it was', async () => {
    const { dir, now } = await killedAt('intent');
    await host('h1');
    expect(await tree(dir)).toEqual(now);
    expect(await fs.readdir(path.join(base, 'trash', 'host-h1'))).toEqual([]);
  });

  it('between the two renames: the restart finishes the rollback (never a volume without data)', async () => {
    const { dir, snapshot } = await killedAt('moved');
    const d = await host('h1');
    expect(await tree(dir)).toEqual(snapshot);
    expect(await fs.readdir(path.join(base, 'trash', 'host-h1'))).toEqual([]);
    expect(await d.mount('v')).toBe(dir);
  });

  it('between the renames with the copy gone: the old data goes back', async () => {
    const { dir, now } = await killedAt('moved-no-copy');
    await host('h1');
    expect(await tree(dir)).toEqual(now);
  });
});
