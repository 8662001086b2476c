// convoy-backup forget: a retention policy per volume over backups taken at known times (an
// injected clock), the exact kept set, --dry-run, and maintenance afterwards freeing exactly the
// blocks only the removed backups used.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, FileSource, backupVolume } from '@convoy/blockstore';
import { FsObjectStore } from '@convoy/objectstore';
import { cli, lastJson, listFiles, MiB, randomFile, tempDir, type ErrorJson } from './helpers.js';

interface ForgetJson {
  dryRun: boolean;
  removed: number;
  volumes: { volume: string; keep: { id: string; reasons: string[] }[]; remove: { id: string }[] }[];
}

let dir: string;
let store: string;
let storeDir: string;
/** id of each backup by its label, e.g. db@01-01T10 */
const ids = new Map<string, string>();

beforeAll(async () => {
  dir = await tempDir('convoy-forget-');
  storeDir = path.join(dir, 'store');
  store = `vfs://${storeDir}`;
  const s = await new FsObjectStore(storeDir).open();
  // Every backup: one 2 MiB block all share, and one 2 MiB block of its own.
  const shared = path.join(dir, 'shared.bin');
  await randomFile(shared, 2 * MiB);
  const plan: [string, string, string][] = [
    ['db', 'a', '2026-01-01T10:00:00Z'],
    ['db', 'b', '2026-01-01T18:00:00Z'],
    ['db', 'c', '2026-01-02T09:00:00Z'],
    ['db', 'd', '2026-01-03T09:00:00Z'],
    ['db', 'e', '2026-01-10T09:00:00Z'],
    ['db', 'f', '2026-02-09T09:00:00Z'],
    ['web', 'w1', '2026-01-01T12:00:00Z'],
    ['web', 'w2', '2026-01-01T13:00:00Z'],
  ];
  for (const [volume, label, time] of plan) {
    const own = path.join(dir, `${label}.bin`);
    await randomFile(own, 2 * MiB);
    const img = path.join(dir, `${label}.img`);
    await fs.writeFile(img, Buffer.concat([await fs.readFile(shared), await fs.readFile(own)]));
    const clock = new FakeClock(Date.parse(time));
    const source = await FileSource.open(img);
    try {
      const { manifest } = await backupVolume({ store: s, volume, source, parent: null, clock });
      ids.set(label, manifest.id);
    } finally {
      await source.close();
    }
  }
  await s.close();
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const id = (label: string): string => ids.get(label) ?? '?';
const blockFiles = async (): Promise<string[]> => (await listFiles(storeDir)).filter((f) => f.startsWith('blocks/'));

describe('convoy-backup stats', () => {
  it('per volume and in total: logical bytes, stored bytes of distinct objects, dedup ratio, objects', async () => {
    const run = await cli(['stats', store, '--json']);
    expect(run.code, run.last).toBe(0);
    const block = 2 * MiB + 12; // a random 2 MiB block is stored raw, behind its 12-byte header
    const usage = (backups: number, objects: number) => ({
      backups,
      logicalBytes: backups * 4 * MiB,
      storedBytes: objects * block,
      objects,
      dedupRatio: (backups * 4 * MiB) / (objects * block),
      missingObjects: 0,
    });
    expect(lastJson(run)).toEqual({
      store,
      volumes: [
        { volume: 'db', ...usage(6, 7) },
        { volume: 'web', ...usage(2, 3) },
      ],
      total: usage(8, 9), // the shared block once
      storeObjects: 9,
      storeBytes: 9 * block,
    });
    const human = await cli(['stats', store, '--volume', 'web']);
    expect(human.stdout).toMatch(/^web\s+2\s+8\.0 MiB\s+6\.0 MiB\s+1\.33x\s+3$/m);
    expect(human.stdout).toContain('store: 9 objects');
  });
});

describe('convoy-backup forget', () => {
  it('--dry-run shows, per volume, what the policy keeps and why, and removes nothing', async () => {
    const run = await cli(['forget', store, '--keep-daily', '2', '--keep-monthly', '2', '--dry-run', '--json']);
    expect(run.code, run.last).toBe(0);
    const out = lastJson<ForgetJson>(run);
    expect(out.dryRun).toBe(true);
    expect(out.volumes).toEqual([
      {
        volume: 'db',
        keep: [
          { id: id('f'), created: '2026-02-09T09:00:00.000Z', reasons: ['daily 2026-02-09', 'monthly 2026-02'] },
          { id: id('e'), created: '2026-01-10T09:00:00.000Z', reasons: ['daily 2026-01-10', 'monthly 2026-01'] },
        ],
        remove: ['d', 'c', 'b', 'a'].map((l) => ({ id: id(l), created: expect.any(String) as string })),
      },
      {
        volume: 'web',
        keep: [{ id: id('w2'), created: '2026-01-01T13:00:00.000Z', reasons: ['daily 2026-01-01', 'monthly 2026-01'] }],
        remove: [{ id: id('w1'), created: '2026-01-01T12:00:00.000Z' }],
      },
    ]);
    expect(out.removed).toBe(5);
    const listed = lastJson<{ id: string }[]>(await cli(['list', store, '--json']));
    expect(listed).toHaveLength(8);
  });

  it('removes what one volume’s policy does not keep; maintenance then frees exactly their own blocks', async () => {
    expect(await blockFiles()).toHaveLength(1 + 8);
    const run = await cli(['forget', store, '--volume', 'db', '--keep-last', '1', '--keep-within', '8d']);
    expect(run.code, run.stderr).toBe(0);
    // within 8 days of the newest (02-09): nothing else; last 1: f. So only f of db stays.
    expect(run.stdout).toContain('volume db: keep 1, removed 5');
    expect(run.stdout).toMatch(/free their space with: convoy-backup maintenance vfs:\/\/.* --full/);
    const listed = lastJson<{ id: string; volume: string }[]>(await cli(['list', store, '--json']));
    expect(listed.map((b) => b.id).sort()).toEqual([id('f'), id('w1'), id('w2')].sort());
    // mark, then sweep (no grace): the 5 blocks only the removed backups used go, nothing else
    for (let i = 0; i < 2; i++) expect((await cli(['maintenance', store, '--full', '--grace', '0'])).code).toBe(0);
    expect(await blockFiles()).toHaveLength(1 + 3);
    const verify = await cli(['verify', store, '--read-data', '--json']);
    expect(verify.code, verify.last).toBe(0);
    for (const b of ['f', 'w1', 'w2']) {
      const target = path.join(dir, `restored-${b}.img`);
      const url = `${store}?backup=${id(b)}&volume=${b.startsWith('w') ? 'web' : 'db'}`;
      expect((await cli(['restore', url, target])).code).toBe(0);
      expect(await fs.readFile(target)).toEqual(await fs.readFile(path.join(dir, `${b}.img`)));
    }
  });

  it('without a --keep rule it refuses (exit 2) and removes nothing; a bad --keep-within too', async () => {
    for (const argv of [
      ['forget', store],
      ['forget', store, '--keep-within', '7 days'],
      ['forget', store, '--keep-daily', '-3'],
    ]) {
      const run = await cli([...argv, '--json']);
      expect(run.code).toBe(2);
      expect(lastJson<ErrorJson>(run).error.code).toBe('CONVOY_INVALID_ARGUMENT');
    }
    expect(lastJson<unknown[]>(await cli(['list', store, '--json']))).toHaveLength(3);
  });
});
