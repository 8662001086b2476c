// create → restore through the CLI (in-process) on a vfs store: bit-exact for every shape of file.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseBackupUrl } from '@convoy/blockstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, lastJson, MiB, randomFile, sha256File, tempDir } from './helpers.js';

let dir: string;
let store: string;

beforeAll(async () => {
  dir = await tempDir();
  store = `vfs://${path.join(dir, 'store')}`;
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function sparseFile(file: string): Promise<void> {
  const fh = await fs.open(file, 'w');
  await fh.truncate(20 * MiB);
  for (const offset of [0, 5 * MiB + 4096, 19 * MiB + 123]) await fh.write(Buffer.alloc(4096, 0xa5), 0, 4096, offset);
  await fh.close();
}

const shapes: [string, (file: string) => Promise<void>][] = [
  ['an empty file', (f) => fs.writeFile(f, '')],
  ['a 1-byte file', (f) => fs.writeFile(f, Buffer.from([0x42]))],
  ['a sparse 20 MiB file with a few written blocks', sparseFile],
  ['a 7 MiB + 123 bytes random file', (f) => randomFile(f, 7 * MiB + 123)],
];

describe('create and restore', () => {
  it.each(shapes)('round-trips %s bit-exact', async (name, make) => {
    const volume = `v${shapes.findIndex(([n]) => n === name)}`;
    const source = path.join(dir, `${volume}.img`);
    await make(source);

    const created = await cli(['create', source, '--dest', store, '--volume', volume]);
    expect(created.code, created.stderr).toBe(0);
    const ref = parseBackupUrl(created.last); // the last stdout line is the backup URL
    expect(ref).toMatchObject({ storeUrl: store, volume });

    const target = path.join(dir, `${volume}.restored`);
    const restored = await cli(['restore', created.last, target]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await sha256File(target)).toBe(await sha256File(source));
    expect((await fs.stat(target)).size).toBe((await fs.stat(source)).size);
  });

  it('restores holes as holes: the sparse file stays sparse', async () => {
    const source = path.join(dir, 'sparse.img');
    await sparseFile(source);
    const created = await cli(['create', source, '--dest', store, '--volume', 'sparse', '--json']);
    expect(created.code).toBe(0);
    type Stats = { blocksTotal: number; blocksNonZero: number; blocksRead: number };
    const { url, stats } = lastJson<{ url: string; stats: Stats }>(created);
    // the holes are skipped unread: only the three blocks with data are read
    expect(stats).toMatchObject({ blocksTotal: 10, blocksNonZero: 3, blocksRead: 3 });
    const target = path.join(dir, 'sparse.restored');
    expect((await cli(['restore', url, target])).code).toBe(0);
    // three 2 MiB blocks hold data; the other 14 MiB were never written
    expect((await fs.stat(target)).blocks * 512).toBeLessThanOrEqual(3 * 2 * MiB);
    expect(await sha256File(target)).toBe(await sha256File(source));
    // --no-skip-holes reads them too, and backs up the same content
    const all = await cli(['create', source, '--dest', store, '--volume', 'sparse-all', '--no-skip-holes', '--json']);
    expect(all.code).toBe(0);
    const read = lastJson<{ url: string; stats: Stats }>(all);
    expect(read.stats).toMatchObject({ blocksTotal: 10, blocksNonZero: 3, blocksRead: 10 });
  });

  it('prints JSON with url, id, volume and stats as the last line, and progress as JSON lines on stderr', async () => {
    const source = path.join(dir, 'json.img');
    await randomFile(source, 5 * MiB);
    const run = await cli([
      'create',
      source,
      '--dest',
      store,
      '--volume',
      'json',
      '--json',
      '--snapshot',
      'snap1',
      '--label',
      'env=test',
      '--label',
      'tier=2',
    ]);
    expect(run.code).toBe(0);
    const result = lastJson<Record<string, unknown>>(run);
    expect(result).toMatchObject({ volume: 'json', snapshot: 'snap1', labels: { env: 'test', tier: '2' }, size: 5 * MiB, parent: null });
    expect(parseBackupUrl(result.url as string)).toMatchObject({ volume: 'json', id: result.id });
    expect(result.stats).toMatchObject({ blocksTotal: 3, blocksRead: 3, blocksUploaded: 3 });
    const progress = run.stderr
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.type === 'progress' && p.phase === 'backup')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ bytesDone: 5 * MiB, bytesTotal: 5 * MiB, blocksDone: 3, blocksTotal: 3 });
  });

  it('prints only the URL on stdout, a summary on stderr, and nothing on stderr with --quiet', async () => {
    const source = path.join(dir, 'quiet.img');
    await randomFile(source, 1000);
    const loud = await cli(['create', source, '--dest', store, '--volume', 'quiet']);
    expect(loud.lines).toHaveLength(1);
    expect(loud.stderr).toMatch(/backed up .*quiet\.img/);
    const quiet = await cli(['create', source, '--dest', store, '--volume', 'quiet', '--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.lines).toHaveLength(1);
    expect(quiet.stderr).toBe('');
    expect(parseBackupUrl(quiet.last).volume).toBe('quiet');
  });

  it('prints a URL that round-trips for a store path with spaces and percent signs', async () => {
    const odd = path.join(dir, 'odd dir %41');
    const source = path.join(dir, 'odd.img');
    await randomFile(source, 3000);
    const created = await cli(['create', source, '--dest', `vfs://${encodeURI(odd)}`, '--volume', 'odd']);
    expect(created.code, created.stderr).toBe(0);
    expect(parseBackupUrl(created.last).storeUrl).toBe(`vfs://${encodeURI(odd)}`);
    const target = path.join(dir, 'odd.restored');
    const restored = await cli(['restore', created.last, target]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await sha256File(target)).toBe(await sha256File(source));
  });
});
