// Incremental backups through the CLI: --changed reads and uploads only the changed blocks, the
// result restores bit-exact, and restore --incremental writes only the blocks that differ.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, lastJson, MiB, randomFile, sha256File, tempDir, type ErrorJson } from './helpers.js';

interface Created {
  url: string;
  id: string;
  parent: string | null;
  stats: { blocksTotal: number; blocksNonZero: number; blocksRead: number; blocksUploaded: number; bytesRead: number };
}

let dir: string;
let store: string;

beforeAll(async () => {
  dir = await tempDir();
  store = `vfs://${path.join(dir, 'store')}`;
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function overwrite(file: string, offset: number, bytes: Buffer): Promise<void> {
  const fh = await fs.open(file, 'r+');
  await fh.write(bytes, 0, bytes.length, offset);
  await fh.close();
}

describe('incremental backups', () => {
  it('with --changed reads and uploads only the changed blocks, and restores bit-exact', async () => {
    const source = path.join(dir, 'disk.img');
    await randomFile(source, 7 * MiB + 123); // 4 blocks of 2 MiB
    const full = await cli(['create', source, '--dest', store, '--volume', 'disk', '--json']);
    expect(full.code, full.last).toBe(0);
    const first = lastJson<Created>(full);
    expect(first.stats).toMatchObject({ blocksTotal: 4, blocksRead: 4, blocksUploaded: 4 });

    // change 100 bytes inside block 1 and record that extent, as a snapshot driver would
    const offset = 2 * MiB + 10;
    await overwrite(source, offset, Buffer.alloc(100, 0x5a));
    const changed = path.join(dir, 'changed.txt');
    await fs.writeFile(changed, `# offset length\n${offset} 100\n`);

    const inc = await cli(['create', source, '--dest', store, '--volume', 'disk', '--changed', changed, '--json']);
    expect(inc.code, inc.last).toBe(0);
    const second = lastJson<Created>(inc);
    expect(second.parent).toBe(first.id);
    expect(second.stats).toMatchObject({ blocksTotal: 4, blocksNonZero: 4, blocksRead: 1, blocksUploaded: 1, bytesRead: 2 * MiB });
    expect(second.stats.blocksUploaded).toBeLessThan(first.stats.blocksUploaded);

    const target = path.join(dir, 'disk.restored');
    expect((await cli(['restore', second.url, target])).code).toBe(0);
    expect(await sha256File(target)).toBe(await sha256File(source));

    // the first backup is still complete on its own
    const old = path.join(dir, 'disk.first');
    expect((await cli(['restore', first.url, old])).code).toBe(0);
    expect(await sha256File(old)).not.toBe(await sha256File(source));

    // bring the old restore up to date in place: only the changed block is written
    const upd = await cli(['restore', second.url, old, '--incremental', '--json']);
    expect(upd.code, upd.last).toBe(0);
    expect(lastJson(upd)).toMatchObject({ blocksWritten: 1, incremental: true });
    expect(await sha256File(old)).toBe(await sha256File(source));
  });

  it('accepts a JSON changed-extent list and an explicit --parent id', async () => {
    const source = path.join(dir, 'json.img');
    await randomFile(source, 6 * MiB);
    const first = lastJson<Created>(await cli(['create', source, '--dest', store, '--volume', 'jsonlist', '--json']));
    await overwrite(source, 4 * MiB, Buffer.alloc(10, 1));
    const changed = path.join(dir, 'changed.json');
    await fs.writeFile(changed, JSON.stringify([[4 * MiB, 10]]));
    const run = await cli([
      'create',
      source,
      '--dest',
      store,
      '--volume',
      'jsonlist',
      '--changed',
      changed,
      '--parent',
      first.id,
      '--json',
    ]);
    expect(run.code, run.last).toBe(0);
    expect(lastJson<Created>(run)).toMatchObject({ parent: first.id, stats: { blocksRead: 1, blocksUploaded: 1 } });
  });

  it('without --changed reads everything but uploads only new blocks', async () => {
    const source = path.join(dir, 'dedup.img');
    await randomFile(source, 5 * MiB);
    const first = lastJson<Created>(await cli(['create', source, '--dest', store, '--volume', 'dedup', '--json']));
    const again = lastJson<Created>(await cli(['create', source, '--dest', store, '--volume', 'dedup', '--json']));
    expect(again.parent).toBe(first.id);
    expect(again.stats).toMatchObject({ blocksRead: 3, blocksUploaded: 0 });
    const full = lastJson<Created>(await cli(['create', source, '--dest', store, '--volume', 'dedup', '--parent', 'none', '--json']));
    expect(full.parent).toBeNull();
    expect(full.stats.blocksUploaded).toBe(0); // deduplicated against the store, not just the parent
  });

  it('refuses --changed with --parent none before touching the store', async () => {
    const source = path.join(dir, 'x.img');
    await randomFile(source, 1000);
    const changed = path.join(dir, 'x.txt');
    await fs.writeFile(changed, '0 10\n');
    const fresh = path.join(dir, 'never-created');
    const run = await cli([
      'create',
      source,
      '--dest',
      `vfs://${fresh}`,
      '--volume',
      'x',
      '--changed',
      changed,
      '--parent',
      'none',
      '--json',
    ]);
    expect(run.code).toBe(2);
    expect(lastJson<ErrorJson>(run).error).toMatchObject({ code: 'CONVOY_USAGE', hint: expect.stringContaining('--changed') });
    await expect(fs.stat(fresh)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
