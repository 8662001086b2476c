// repair through the CLI (in-process): missing and corrupt blocks put back from a source file, exit 3 when it cannot.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, lastJson, listFiles, MiB, randomFile, tempDir, type ErrorJson } from './helpers.js';

interface RepairJson {
  blocksChecked: number;
  dataChecked: boolean;
  repaired: string[];
  stillDamaged: { backup: string; blocks: number; error?: string }[];
}

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A store with one backup of a 2-block random file; returns its paths, the backup id and its block files. */
async function setup(name: string): Promise<{ store: string; storeDir: string; source: string; id: string; blocks: string[] }> {
  const storeDir = path.join(dir, name, 'store');
  const source = path.join(dir, name, 'disk.img');
  await fs.mkdir(path.dirname(source), { recursive: true });
  await randomFile(source, 3 * MiB + 7);
  const run = await cli(['create', source, '--dest', `vfs://${storeDir}`, '--volume', 'vol', '--json']);
  expect(run.code, run.last).toBe(0);
  const blocks = (await listFiles(storeDir)).filter((f) => f.startsWith('blocks/'));
  expect(blocks).toHaveLength(2);
  return { store: `vfs://${storeDir}`, storeDir, source, id: lastJson<{ id: string }>(run).id, blocks };
}

const idOf = (block: string): string => path.basename(block, '.blk');

describe('repair', () => {
  it('puts a missing block back from the source; verify is clean again', async () => {
    const { store, storeDir, source, blocks } = await setup('missing');
    const lost = blocks[1] as string;
    await fs.rm(path.join(storeDir, lost));
    const verify = await cli(['verify', store]);
    expect(verify.code).toBe(3);
    expect(verify.stdout).toContain('convoy-backup repair STORE --source FILE');

    const run = await cli(['repair', store, '--source', source, '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(lastJson<RepairJson>(run)).toEqual({ blocksChecked: 2, dataChecked: false, repaired: [idOf(lost)], stillDamaged: [] });
    expect((await cli(['verify', store, '--read-data'])).code).toBe(0);

    const clean = await cli(['repair', store, '--source', source]);
    expect(clean.code).toBe(0);
    expect(clean.lines).toEqual([
      'ok: nothing to repair; 2 blocks checked (contents not read; use --read-data to find corrupt blocks too)',
    ]);
  });

  it('exits 3 and names the backups a source cannot repair', async () => {
    const { store, storeDir, blocks, id } = await setup('unrelated');
    await fs.rm(path.join(storeDir, blocks[0] as string));
    const other = path.join(dir, 'unrelated', 'other.img');
    await randomFile(other, 4 * MiB);

    const run = await cli(['repair', store, '--source', other]);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`still damaged: backup vol/${id} needs 1 missing or corrupt block that ${other} does not hold`);
    expect(run.stdout).toMatch(/^1 backup still damaged; 2 blocks checked/m);
    const json = await cli(['repair', store, '--source', other, '--json']);
    expect(json.code).toBe(3);
    expect(lastJson<RepairJson>(json)).toMatchObject({ repaired: [], stillDamaged: [{ backup: `vol/${id}`, blocks: 1 }] });
  });

  it('--read-data finds a corrupt block and writes it again; without it contents are not read', async () => {
    const { store, storeDir, source, blocks } = await setup('corrupt');
    const bad = blocks[0] as string;
    const file = path.join(storeDir, bad);
    const bytes = await fs.readFile(file);
    bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 0xff;
    await fs.writeFile(file, bytes);

    const blind = await cli(['repair', store, '--source', source, '--json']);
    expect(blind.code).toBe(0);
    expect(lastJson<RepairJson>(blind)).toMatchObject({ dataChecked: false, repaired: [] });

    const run = await cli(['repair', store, '--source', source, '--read-data']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.lines).toEqual([
      `repaired 1 block of ${store} from ${source}:`,
      `  ${bad}`,
      'ok: every backup is complete again; 2 blocks checked (data read back)',
    ]);
    expect((await cli(['verify', store, '--read-data'])).code).toBe(0);
  });

  it("narrows to a volume with --volume or the URL's volume=, and refuses bad input", async () => {
    const { store, storeDir, source, blocks } = await setup('narrow');
    await fs.rm(path.join(storeDir, blocks[0] as string));
    const elsewhere = await cli(['repair', `${store}?volume=other`, '--source', source, '--json']);
    expect(elsewhere.code).toBe(0);
    expect(lastJson<RepairJson>(elsewhere)).toMatchObject({ blocksChecked: 0, repaired: [] });

    const noSource = await cli(['repair', store, '--json']);
    expect(noSource.code).toBe(2);
    expect(lastJson<ErrorJson>(noSource).error).toMatchObject({ code: 'CONVOY_USAGE', hint: 'run "convoy-backup repair --help"' });
    const badVolume = await cli(['repair', store, '--source', source, '--volume', '../x', '--json']);
    expect(badVolume.code).toBe(2);
    const missing = await cli(['repair', store, '--source', path.join(dir, 'nope.img'), '--json']);
    expect(missing.code).toBe(1);
    expect(lastJson<ErrorJson>(missing).error.code).toBe('CONVOY_SOURCE_UNREADABLE');

    const fixed = await cli(['repair', store, '--source', source, '--volume', 'vol', '--json']);
    expect(lastJson<RepairJson>(fixed).repaired).toEqual([idOf(blocks[0] as string)]);
  });
});
