// list, inspect, delete and verify through the CLI (in-process), JSON and human output.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, lastJson, listFiles, MiB, randomFile, tempDir, type ErrorJson } from './helpers.js';

interface Created {
  url: string;
  id: string;
  volume: string;
  size: number;
}

let dir: string;
let storeDir: string;
let store: string;
const backups: Created[] = [];

beforeAll(async () => {
  dir = await tempDir();
  storeDir = path.join(dir, 'store');
  store = `vfs://${storeDir}`;
  // a: two backups (the second shares no blocks with the first); b: one backup
  for (const [volume, size, snapshot] of [
    ['a', 3 * MiB, 's1'],
    ['a', 5 * MiB, 's2'],
    ['b', 2 * MiB + 1, 's1'],
  ] as const) {
    const source = path.join(dir, `${volume}-${snapshot}.img`);
    await randomFile(source, size);
    const run = await cli([
      'create',
      source,
      '--dest',
      store,
      '--volume',
      volume,
      '--snapshot',
      snapshot,
      '--label',
      `snap=${snapshot}`,
      '--json',
    ]);
    expect(run.code, run.last).toBe(0);
    backups.push(lastJson<Created>(run));
  }
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('list', () => {
  it('lists every backup as a JSON array, oldest first per volume', async () => {
    const run = await cli(['list', store, '--json']);
    expect(run.code).toBe(0);
    const list = lastJson<Record<string, unknown>[]>(run);
    expect(list.map((e) => [e.volume, e.id])).toEqual(backups.map((b) => [b.volume, b.id]));
    expect(list[1]).toMatchObject({
      volume: 'a',
      snapshot: 's2',
      parent: backups[0]?.id,
      size: 5 * MiB,
      url: backups[1]?.url,
      labels: { snap: 's2' },
    });
  });

  it('narrows to one volume', async () => {
    const list = lastJson<{ volume: string }[]>(await cli(['list', store, '--volume', 'b', '--json']));
    expect(list.map((e) => e.volume)).toEqual(['b']);
    expect(lastJson<unknown[]>(await cli(['list', store, '--volume', 'nope', '--json']))).toEqual([]);
  });

  it('prints a table with volume, id, created, size, snapshot and parent', async () => {
    const run = await cli(['list', store]);
    expect(run.code).toBe(0);
    expect(run.lines[0]?.split(/\s+/)).toEqual(['VOLUME', 'ID', 'CREATED', 'SIZE', 'SNAPSHOT', 'PARENT']);
    expect(run.lines).toHaveLength(4);
    expect(run.lines[2]?.split(/\s{2,}/)).toEqual([
      'a',
      backups[1]?.id,
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/),
      '5.0 MiB',
      's2',
      backups[0]?.id,
    ]);
  });

  it('fails clearly for a directory that is not a store, and does not create one', async () => {
    const empty = await fs.mkdtemp(path.join(dir, 'empty-'));
    const run = await cli(['list', `vfs://${empty}`, '--json']);
    expect(run.code).toBe(1);
    expect(lastJson<ErrorJson>(run).error).toMatchObject({ code: 'CONVOY_STORE_EMPTY', hint: expect.any(String) });
    const missing = path.join(dir, 'missing');
    const gone = await cli(['list', `vfs://${missing}`, '--json']);
    expect(lastJson<ErrorJson>(gone).error.code).toBe('CONVOY_STORE_NOT_FOUND');
    await expect(fs.stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('inspect', () => {
  it('prints the manifest as JSON', async () => {
    const b = backups[1] as Created;
    const run = await cli(['inspect', b.url, '--json']);
    expect(run.code).toBe(0);
    expect(lastJson(run)).toMatchObject({
      format: 'convoy-backup-manifest',
      id: b.id,
      volume: 'a',
      url: b.url,
      snapshot: 's2',
      size: 5 * MiB,
      parent: backups[0]?.id,
      labels: { snap: 's2' },
      blockMap: { entries: 3 },
      stats: { blocksTotal: 3 },
    });
  });

  it('prints it human-readable', async () => {
    const run = await cli(['inspect', (backups[1] as Created).url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^backup\s+\S+$/m);
    expect(run.stdout).toMatch(/^snapshot\s+s2$/m);
    expect(run.stdout).toMatch(/^labels\s+snap=s2$/m);
    expect(run.stdout).toMatch(/^size\s+5\.0 MiB \(5242880 bytes\)$/m);
  });

  it('names a backup that does not exist', async () => {
    const absent = (backups[0] as Created).id.replace(/-[0-9a-f]{6}$/, '-000000'); // well-formed, never written
    const url = `${store}?backup=${absent}&volume=a`;
    const run = await cli(['inspect', url, '--json']);
    expect(run.code).toBe(1);
    expect(lastJson<ErrorJson>(run).error).toMatchObject({ code: 'CONVOY_BACKUP_NOT_FOUND', hint: expect.stringContaining('list') });
  });
});

describe('verify and delete', () => {
  it('verify is clean on a healthy store', async () => {
    const run = await cli(['verify', store, '--json']);
    expect(run.code).toBe(0);
    expect(lastJson(run)).toMatchObject({ ok: true, backupsChecked: 3, problems: [] });
    expect(lastJson(run)).toMatchObject({ dataChecked: false });
    const human = await cli(['verify', store]);
    expect(human.last).toMatch(
      /^ok: 3 backups, \d+ blocks checked, no problems \(only existence checked: contents not read; use --read-data\)$/,
    );
    const data = await cli(['verify', store, '--read-data']);
    expect(data.code).toBe(0);
    expect(data.last).toMatch(/^ok: 3 backups, \d+ blocks \(data read back\) checked, no problems$/);
    expect(lastJson(await cli(['verify', store, '--read-data', '--json']))).toMatchObject({ ok: true, dataChecked: true });
  });

  it('verify exits 3 naming a deleted block and the backups that need it', async () => {
    const work = await fs.mkdtemp(path.join(dir, 'broken-'));
    const source = path.join(work, 'disk.img');
    await randomFile(source, 4 * MiB + 7);
    const created = lastJson<Created>(await cli(['create', source, '--dest', `vfs://${work}/store`, '--volume', 'broken', '--json']));
    const block = (await listFiles(path.join(work, 'store'))).find((f) => f.startsWith('blocks/'));
    expect(block).toBeDefined();
    await fs.rm(path.join(work, 'store', block as string));

    const run = await cli(['verify', `vfs://${work}/store`, '--json']);
    expect(run.code).toBe(3);
    const result = lastJson<{ ok: boolean; problems: { key: string; kind: string; backups: string[] }[] }>(run);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([expect.objectContaining({ key: block, kind: 'missing', backups: [`broken/${created.id}`] })]);

    const human = await cli(['verify', `vfs://${work}/store`]);
    expect(human.code).toBe(3);
    expect(human.stdout).toContain(block);
    expect(human.stdout).toContain(`broken/${created.id}`);
  });

  it('verify --read-data finds a corrupt block', async () => {
    const work = await fs.mkdtemp(path.join(dir, 'corrupt-'));
    const source = path.join(work, 'disk.img');
    await randomFile(source, 2 * MiB);
    expect((await cli(['create', source, '--dest', `vfs://${work}/store`, '--volume', 'c', '--compression', 'none'])).code).toBe(0);
    const block = (await listFiles(path.join(work, 'store'))).find((f) => f.startsWith('blocks/')) as string;
    const file = path.join(work, 'store', block);
    const bytes = await fs.readFile(file);
    bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 0xff;
    await fs.writeFile(file, bytes);

    expect((await cli(['verify', `vfs://${work}/store`])).code).toBe(0); // existence only
    const run = await cli(['verify', `vfs://${work}/store`, '--read-data', '--json']);
    expect(run.code).toBe(3);
    expect(lastJson<{ problems: unknown[] }>(run).problems).toEqual([expect.objectContaining({ key: block, kind: 'corrupt' })]);
  });

  it('delete removes the backup at once; full maintenance then frees the blocks only it used', async () => {
    const [a1, a2, b1] = backups as [Created, Created, Created];
    const blocks = async (): Promise<string[]> => (await listFiles(storeDir)).filter((f) => f.startsWith('blocks/'));
    const before = await blocks();
    const run = await cli(['delete', a1.url, '--json']);
    expect(run.code, run.last).toBe(0);
    expect(lastJson(run)).toEqual({
      url: a1.url,
      volume: 'a',
      id: a1.id,
      deleted: true,
      alreadyDeleted: false,
      collectedBy: 'maintenance',
      blocksDeleted: 0,
      blockMapsDeleted: 0,
      blocksKept: 0,
    });
    expect(await blocks()).toEqual(before); // format v2: delete frees nothing itself

    const list = lastJson<{ id: string }[]>(await cli(['list', store, '--json']));
    expect(list.map((e) => e.id)).toEqual([a2.id, b1.id]);
    expect((await cli(['verify', store])).code).toBe(0);
    // until maintenance consumes the tombstone, deleting again is "already deleted"
    const again = await cli(['delete', a1.url]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`backup ${a1.id} of volume a was already deleted`);

    // a full maintenance marks the unreferenced blocks; a second one, a grace period later, deletes them
    expect((await cli(['maintenance', store, '--full', '--grace', '0'])).code).toBe(0);
    const swept = await cli(['maintenance', store, '--full', '--grace', '0', '--json']);
    expect(swept.code, swept.last).toBe(0);
    expect(lastJson(swept)).toMatchObject({ full: true, sweep: { blocksDeleted: 2 } });
    expect((await blocks()).length).toBe(before.length - 2);
    expect((await cli(['verify', store, '--read-data'])).code).toBe(0);
    const gone = await cli(['delete', a1.url, '--json']);
    expect(gone.code).toBe(1);
    expect(lastJson<ErrorJson>(gone).error.code).toBe('CONVOY_BACKUP_NOT_FOUND');

    const human = await cli(['delete', b1.url]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`deleted backup ${b1.id} of volume b`);
    expect(human.stdout).toContain('blocks no other backup uses are freed by `convoy-backup maintenance --full`');
    expect((await listFiles(storeDir)).filter((f) => f.startsWith('locks/'))).toEqual([]);
  });
});
