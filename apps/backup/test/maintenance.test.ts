// maintenance and upgrade through the CLI (in-process): merging, sweeping, v1 stores, JSON and human output.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrInitStore } from '@convoy/blockstore';
import { FsObjectStore } from '@convoy/objectstore';
import { cli, lastJson, listFiles, MiB, randomFile, tempDir, type ErrorJson } from './helpers.js';

interface Created {
  url: string;
  id: string;
}

interface MaintenanceJson {
  url: string;
  full: boolean;
  generation: number;
  graceMs: number | null;
  merge: { adds: number; deletes: number; abandoned: number; inFlight: number };
  sweep?: { blocksDeleted: number; blocksMarked: number; blocksSpared: number; orphanMapsDeleted: number; staleRemoved: number };
  problems: string[];
}

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A new store under `dir` with one backup per size, of volume `volume` (sizes in MiB; each its own random data). */
async function storeWith(name: string, volume: string, sizes: number[]): Promise<{ store: string; storeDir: string; backups: Created[] }> {
  const storeDir = path.join(dir, name);
  const store = `vfs://${storeDir}`;
  const backups: Created[] = [];
  for (const [i, size] of sizes.entries()) {
    const source = path.join(dir, `${name}-${i}.img`);
    await randomFile(source, size * MiB);
    const run = await cli(['create', source, '--dest', store, '--volume', volume, '--parent', 'none', '--json']);
    expect(run.code, run.last).toBe(0);
    backups.push(lastJson<Created>(run));
  }
  return { store, storeDir, backups };
}

const blockFiles = async (storeDir: string): Promise<string[]> => (await listFiles(storeDir)).filter((f) => f.startsWith('blocks/'));

describe('maintenance', () => {
  it('quick maintenance merges new backups, then a delete; it says that --full frees blocks', async () => {
    const { store, backups } = await storeWith('quick', 'm', [2, 4]);
    const first = await cli(['maintenance', store]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.lines).toEqual([
      `quick maintenance of ${store}: index generation 1`,
      'merged 2 new backups and 0 deletes; removed 0 abandoned backup markers; 0 backups still being made (merged by a later run)',
    ]);

    expect((await cli(['delete', (backups[0] as Created).url])).code).toBe(0);
    const second = await cli(['maintenance', store, '--json']);
    expect(second.code).toBe(0);
    const r = lastJson<MaintenanceJson>(second);
    expect(r).toMatchObject({
      url: store,
      full: false,
      generation: 2,
      graceMs: 86_400_000,
      merge: { adds: 0, deletes: 1, abandoned: 0, inFlight: 0 },
      problems: [],
    });
    expect(r.sweep).toBeUndefined();
    const human = await cli(['maintenance', store]);
    expect(human.lines[1]).toMatch(/^merged 0 new backups and 0 deletes/);
  });

  it('--full marks unreferenced blocks, says when they become deletable, and a later full run deletes them', async () => {
    const { store, storeDir, backups } = await storeWith('full', 'f', [2, 4]);
    const before = await blockFiles(storeDir);
    expect((await cli(['delete', (backups[0] as Created).url])).code).toBe(0);
    const told = await cli(['maintenance', store]);
    expect(told.stdout).toContain('blocks of deleted backups are freed by `convoy-backup maintenance --full`');

    // with the store's grace period (24 h) fresh blocks are not even marked
    const patient = lastJson<MaintenanceJson>(await cli(['maintenance', store, '--full', '--json']));
    expect(patient.sweep).toMatchObject({ blocksDeleted: 0, blocksMarked: 0 });

    const mark = await cli(['maintenance', store, '--full', '--grace', '0']);
    expect(mark.code, mark.stderr).toBe(0);
    expect(mark.stdout).toContain("grace period for this run: 0.0 s (the store's: 24h00m)");
    expect(mark.stdout).toMatch(
      /^blocks: 0 deleted, 0 spared \(used again since they were marked\), 1 newly marked unreferenced \(\d+ listed\)$/m,
    );
    expect(mark.stdout).toMatch(
      /^marked blocks are deleted by a full maintenance after \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(the store's grace period, 24h00m\), unless a backup uses them again$/m,
    );
    expect(mark.stdout).toMatch(/^removed 0 orphan block maps, 0 stale temporary files, 0 expired leases, 0 old sweep records$/m);
    expect(await blockFiles(storeDir)).toEqual(before);

    const sweep = await cli(['maintenance', store, '--full', '--grace', '0', '--json']);
    expect(sweep.code).toBe(0);
    expect(lastJson<MaintenanceJson>(sweep)).toMatchObject({ full: true, graceMs: 0, sweep: { blocksDeleted: 1, blocksMarked: 0 } });
    expect((await blockFiles(storeDir)).length).toBe(before.length - 1);
    expect((await cli(['verify', store, '--read-data'])).code).toBe(0);
  });

  it('reports progress as JSON lines on stderr with --json', async () => {
    const { store } = await storeWith('progress', 'p', [1]);
    const run = await cli(['maintenance', store, '--full', '--json']);
    expect(run.code).toBe(0);
    const lines = run.stderr
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { type: string; phase: string });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.type === 'progress' && l.phase === 'maintenance')).toBe(true);
  });

  it('refuses a --grace that is not a duration before touching the store', async () => {
    const run = await cli(['maintenance', `vfs://${path.join(dir, 'never')}`, '--grace', '5', '--json']);
    expect(run.code).toBe(2);
    expect(lastJson<ErrorJson>(run).error).toMatchObject({ code: 'CONVOY_USAGE', hint: expect.stringContaining('1h') });
    await expect(fs.stat(path.join(dir, 'never'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('upgrade', () => {
  it('a format v1 store: maintenance refuses with the upgrade hint; upgrade converts it; maintenance then merges its backups', async () => {
    const storeDir = path.join(dir, 'v1');
    const store = `vfs://${storeDir}`;
    const fsStore = await new FsObjectStore(storeDir).open();
    await openOrInitStore(fsStore, { compression: 'zstd', now: new Date(), version: 1 });
    await fsStore.close();
    const source = path.join(dir, 'v1.img');
    await randomFile(source, 3 * MiB);
    expect((await cli(['create', source, '--dest', store, '--volume', 'old'])).code).toBe(0);
    expect((await cli(['create', source, '--dest', store, '--volume', 'old'])).code).toBe(0);

    const refused = await cli(['maintenance', store, '--json']);
    expect(refused.code).toBe(1);
    expect(lastJson<ErrorJson>(refused).error).toMatchObject({
      code: 'CONVOY_FORMAT_UNSUPPORTED',
      hint: expect.stringContaining('convoy-backup upgrade'),
    });
    const human = await cli(['maintenance', store]);
    expect(human.stderr).toMatch(/^convoy-backup: .*format v1.*\nhint: .*convoy-backup upgrade/m);

    const up = await cli(['upgrade', store, '--json']);
    expect(up.code, up.stderr).toBe(0);
    expect(lastJson(up)).toEqual({ url: store, from: 1, to: 2, backups: 2, unreadable: [] });
    const again = await cli(['upgrade', store]);
    expect(again.code).toBe(0);
    expect(again.lines).toEqual([`${store} is already format v2: nothing to do`]);

    const merged = await cli(['maintenance', store, '--json']);
    expect(merged.code).toBe(0);
    expect(lastJson<MaintenanceJson>(merged).merge).toMatchObject({ adds: 2, deletes: 0 });
  });

  it('lists the backups it could not read', async () => {
    const storeDir = path.join(dir, 'v1-broken');
    const store = `vfs://${storeDir}`;
    const fsStore = await new FsObjectStore(storeDir).open();
    await openOrInitStore(fsStore, { compression: 'zstd', now: new Date(), version: 1 });
    await fsStore.close();
    const source = path.join(dir, 'v1-broken.img');
    await randomFile(source, 2 * MiB);
    const created = lastJson<Created>(await cli(['create', source, '--dest', store, '--volume', 'bad', '--json']));
    expect((await cli(['create', source, '--dest', store, '--volume', 'good'])).code).toBe(0);
    await fs.writeFile(path.join(storeDir, 'volumes', 'bad', 'backups', `${created.id}.json`), '{"not":"a manifest"}');

    const run = await cli(['upgrade', store]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.lines[0]).toBe(`upgraded ${store} from format v1 to v2: recorded the references of 1 backup`);
    expect(run.stdout).toContain('1 backup could not be read');
    expect(run.stdout).toMatch(new RegExp(`^  bad/${created.id}: .*invalid`, 'm'));
  });
});
