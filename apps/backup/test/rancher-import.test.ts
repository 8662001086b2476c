// `convoy-backup import` of a store the original Rancher Convoy v0.5.2 binary made (three volumes,
// three backups each, files changing between them): every Convoy backup becomes a directory backup
// of ours that restores bit for bit to what Convoy backed up; a re-run imports nothing; a run
// killed with SIGKILL after its first backup, then run again, gives the complete set without
// duplicates; verify is clean. On vfs:// and s3:// (the run's radosgw), source and destination.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3TestEnvironment } from '@convoy/objectstore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../tools/vitest/project-defaults.js';
import { makeRancherStore, readTree, type RancherStore } from '../../../tools/vitest/rancher-convoy.js';
import { cli, lastJson, MiB, tempDir, type CliRun, type RunOptions } from './helpers.js';

interface Entry {
  type: string;
  volume: string;
  source: string;
  driver: string;
  created: string;
  snapshot: string | null;
  id?: string;
  url?: string;
  error?: { code: string; hint?: string };
}
interface Summary {
  imported: number;
  alreadyImported: number;
  skipped: number;
  failed: number;
  backups: Entry[];
}
interface Listed {
  volume: string;
  id: string;
  url: string;
  snapshot: string | null;
  size: number;
  labels: Record<string, string>;
  stats: { bytesUploaded: number };
}

const VOLUMES = ['vol1', 'ab', 'data3'];
const ROUNDS = 3;
let work: string;
let rs: RancherStore;
const src = (): string => `vfs://${rs.storeDir}`;

beforeAll(async () => {
  work = await tempDir('convoy-backup-import-');
  await fs.mkdir(path.join(work, 'convoy-go'));
  rs = await makeRancherStore(path.join(work, 'convoy-go'), VOLUMES, { backups: ROUNDS });
}, 180_000);
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** Each stderr JSON line of `import --json` that is a backup's entry. */
const entriesOf = (run: CliRun): Entry[] =>
  run.stderr
    .split('\n')
    .filter((l) => l.startsWith('{') && !l.includes('"type":"progress"'))
    .map((l) => JSON.parse(l) as Entry);

/** Every Convoy backup was imported once, restores to the tree Convoy backed up, and verify is clean. */
async function expectComplete(dest: string, opts: RunOptions = {}, extra: string[] = []): Promise<void> {
  const listed = await cli(['list', dest, '--json', ...extra], opts);
  expect(listed.code, listed.stderr).toBe(0);
  const ours = lastJson<Listed[]>(listed);
  const sources = ours.map((b) => b.labels['convoy.import.source']);
  expect(new Set(sources).size).toBe(sources.length); // no duplicates
  expect(sources.sort()).toEqual(rs.volumes.flatMap((v) => v.backups.map((b) => b.backup)).sort());
  for (const v of rs.volumes) {
    for (const b of v.backups) {
      const mine = ours.find((o) => o.labels['convoy.import.source'] === b.backup)!;
      expect(mine).toMatchObject({
        volume: v.name,
        snapshot: b.snapshot,
        labels: { 'convoy.import.format': 'rancher-convoy-v0.5.2', 'convoy.import.driver': 'vfs' },
      });
      const target = path.join(work, `restored-${randomBytes(4).toString('hex')}`);
      const r = await cli(['restore', mine.url, target, ...extra], opts);
      expect(r.code, r.stderr).toBe(0);
      expect(await readTree(target)).toEqual(b.tree);
      await fs.rm(target, { recursive: true });
    }
  }
  const verified = await cli(['verify', dest, '--read-data', '--json', ...extra], opts);
  expect(verified.code, verified.stdout).toBe(0);
  expect(lastJson(verified)).toMatchObject({ ok: true, problems: [] });
}

describe('convoy-backup import of a Rancher Convoy v0.5.2 store (vfs)', () => {
  it('imports every backup oldest first, each restoring bit for bit; list says where each came from; a re-run imports nothing', async () => {
    const dest = `vfs://${work}/ours`;
    const run = await cli(['import', src(), dest, '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const summary = lastJson<Summary>(run);
    expect(summary).toMatchObject({ imported: VOLUMES.length * ROUNDS, alreadyImported: 0, skipped: 0, failed: 0 });
    const lines = entriesOf(run);
    expect(lines.map((e) => e.type)).toEqual(Array(VOLUMES.length * ROUNDS).fill('imported'));
    const created = lines.map((e) => e.created);
    expect(created).toEqual([...created].sort()); // oldest first
    await expectComplete(dest);

    // dedup: a later backup of a volume stores only what changed (its parent's packs are reused)
    const listed = lastJson<Listed[]>(await cli(['list', dest, '--volume', 'vol1', '--json']));
    const last = listed.find((b) => b.labels['convoy.import.source'] === rs.volumes[0]!.backups[ROUNDS - 1]!.backup)!;
    expect(last.stats.bytesUploaded).toBeLessThan(last.size / 2);
    const table = await cli(['list', dest, '--volume', 'vol1']);
    expect(table.stdout).toContain(`Rancher Convoy ${rs.volumes[0]!.backup}`);

    const again = await cli(['import', src(), dest, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(lastJson<Summary>(again)).toMatchObject({ imported: 0, alreadyImported: VOLUMES.length * ROUNDS });
    expect(lastJson<Listed[]>(await cli(['list', dest, '--json']))).toHaveLength(VOLUMES.length * ROUNDS);
  });

  it('--volume imports one volume only; the human output says what it did', async () => {
    const dest = `vfs://${work}/one`;
    const run = await cli(['import', src(), dest, '--volume', 'ab']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`imported Rancher Convoy backup ${rs.volumes[1]!.backup} of volume ab as `);
    expect(run.last).toBe(`${ROUNDS} imported, 0 imported before, 0 skipped, 0 failed`);
    const listed = lastJson<Listed[]>(await cli(['list', dest, '--json']));
    expect(listed.map((b) => b.volume)).toEqual(Array(ROUNDS).fill('ab'));
  });

  it('a devicemapper (deltablock) backup is imported as a block image, bit-exact; a re-run imports nothing', async () => {
    // The original binary makes deltablock backups only with a kernel that has device-mapper (the
    // dm guest, where the reader itself is tested against it); here a backup of that layout is
    // written beside the real ones: two 2 MiB blocks, gzip, named by their SHA-512 (first 64 hex).
    const copy = path.join(work, 'with-dm');
    await fs.cp(rs.storeDir, copy, { recursive: true });
    const dir = path.join(copy, 'convoy-objectstore/volumes/dm/vo/dmvol');
    await fs.mkdir(path.join(dir, 'backups'), { recursive: true });
    const when = 'Wed Dec 02 00:57:56 +0000 2026';
    const size = 3 * 2 * MiB;
    const blocks = [randomBytes(2 * MiB), randomBytes(2 * MiB)];
    const mapping = [];
    for (const [i, data] of blocks.entries()) {
      const sum = createHash('sha512').update(data).digest('hex').slice(0, 64);
      const file = path.join(dir, 'blocks', sum.slice(0, 2), sum.slice(2, 4), `${sum}.blk`);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, gzipSync(data));
      mapping.push({ Offset: i * 2 * 2 * MiB, BlockChecksum: sum }); // blocks 0 and 2; block 1 is a hole
    }
    await fs.writeFile(
      path.join(dir, 'volume.cfg'),
      JSON.stringify({ Name: 'dmvol', Driver: 'devicemapper', Size: size, CreatedTime: when, LastBackupName: 'backup-00000000000000dd' }),
    );
    await fs.writeFile(
      path.join(dir, 'backups', 'backup_backup-00000000000000dd.cfg'),
      JSON.stringify({
        Name: 'backup-00000000000000dd',
        Driver: 'devicemapper',
        VolumeName: 'dmvol',
        SnapshotName: 'dmsnap',
        SnapshotCreatedAt: when,
        CreatedTime: when,
        Blocks: mapping,
        SingleFile: { FilePath: '' },
      }),
    );
    const dest = `vfs://${work}/dm`;
    const first = await cli(['import', `vfs://${copy}`, dest, '--volume', 'dmvol', '--json']);
    expect(first.code, first.stdout).toBe(0);
    expect(lastJson<Summary>(first)).toMatchObject({ imported: 1, skipped: 0, failed: 0 });
    const again = await cli(['import', `vfs://${copy}`, dest, '--volume', 'dmvol', '--json']);
    expect(lastJson<Summary>(again)).toMatchObject({ imported: 0, failed: 0 });
    const [ours] = lastJson<Listed[]>(await cli(['list', dest, '--json']));
    const target = path.join(work, 'dmvol.img');
    expect((await cli(['restore', `${dest}?backup=${ours?.id ?? ''}&volume=dmvol`, target])).code).toBe(0);
    expect(await fs.readFile(target)).toEqual(Buffer.concat([blocks[0] as Buffer, Buffer.alloc(2 * MiB), blocks[1] as Buffer]));
  });

  it('a damaged Convoy archive fails that backup only: the others are imported, the run exits 3, a re-run retries only it', async () => {
    const copy = path.join(work, 'damaged');
    await fs.cp(rs.storeDir, copy, { recursive: true });
    const v = rs.volumes.find((x) => x.name === 'ab')!;
    const bak = path.join(copy, 'convoy-objectstore/volumes/ab/!!/ab!!/BackupFiles', `${v.backups[1]!.backup}.bak`);
    await fs.truncate(bak, Math.floor((await fs.stat(bak)).size / 2));
    const dest = `vfs://${work}/damaged-dest`;
    for (const [imported, already] of [
      [ROUNDS - 1, 0],
      [0, ROUNDS - 1],
    ]) {
      const run = await cli(['import', `vfs://${copy}`, dest, '--volume', 'ab', '--json']);
      expect(run.code).toBe(3);
      expect(lastJson<Summary>(run)).toMatchObject({ imported, alreadyImported: already, failed: 1 });
      expect(entriesOf(run).find((e) => e.type === 'failed')).toMatchObject({
        source: v.backups[1]!.backup,
        error: { code: 'CONVOY_RANCHER_ARCHIVE_CORRUPT' },
      });
    }
    const verified = await cli(['verify', dest, '--json']);
    expect(lastJson(verified)).toMatchObject({ ok: true });
  });

  it('killed with SIGKILL after its first backup, then run again: the complete set, no duplicates, verify clean', async () => {
    const dest = `vfs://${work}/killed`;
    const killed = await spawnImport([src(), dest, '--json'], (line) => line.includes('"type":"imported"'));
    expect(killed.signal).toBe('SIGKILL');
    const partial = lastJson<Listed[]>(await cli(['list', dest, '--json']));
    expect(partial.length).toBeGreaterThanOrEqual(1);
    expect(partial.length).toBeLessThan(VOLUMES.length * ROUNDS);
    const rerun = await cli(['import', src(), dest, '--json']);
    expect(rerun.code, rerun.stdout).toBe(0);
    const s = lastJson<Summary>(rerun);
    expect(s.alreadyImported).toBe(partial.length);
    expect(s.imported + s.alreadyImported).toBe(VOLUMES.length * ROUNDS);
    await expectComplete(dest);
  });
});

describe('convoy-backup import on S3 (radosgw)', () => {
  const s3 = s3TestEnvironment();
  let bucket: string;
  const opts = (): RunOptions => ({
    env: { AWS_ACCESS_KEY_ID: s3?.accessKeyId, AWS_SECRET_ACCESS_KEY: s3?.secretAccessKey, AWS_REGION: 'us-east-1' },
  });

  beforeAll(async () => {
    if (s3 === undefined) throw new Error('no S3 test environment (the radosgw global setup did not run)');
    bucket = `convoy-import-${randomBytes(4).toString('hex')}`;
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3 });
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      // The store Convoy wrote, under the same keys below a prefix (what Convoy's s3 driver writes)
      const files = await fs.readdir(rs.storeDir, { recursive: true, withFileTypes: true });
      for (const f of files.filter((e) => e.isFile())) {
        const abs = path.join(f.parentPath, f.name);
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: `convoy/${path.relative(rs.storeDir, abs)}`, Body: await fs.readFile(abs) }),
        );
      }
    } finally {
      client.destroy();
    }
  });

  it('imports from S3 into S3, restores bit for bit, re-runs import nothing, verify is clean, no secret printed', async () => {
    const endpoint = ['--s3-endpoint', s3?.endpoint ?? ''];
    const source = `s3://${bucket}@us-east-1/convoy`;
    const dest = `s3://${bucket}@us-east-1/ours`;
    const run = await cli(['import', source, dest, '--json', ...endpoint], opts());
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(lastJson<Summary>(run)).toMatchObject({ imported: VOLUMES.length * ROUNDS, failed: 0 });
    expect(run.stdout + run.stderr).not.toContain(s3?.secretAccessKey);
    await expectComplete(dest, opts(), endpoint);
    const again = await cli(['import', source, dest, '--json', ...endpoint], opts());
    expect(lastJson<Summary>(again)).toMatchObject({ imported: 0, alreadyImported: VOLUMES.length * ROUNDS });
  });

  it('imports from a vfs store into S3', async () => {
    const endpoint = ['--s3-endpoint', s3?.endpoint ?? ''];
    const dest = `s3://${bucket}@us-east-1/from-vfs`;
    const run = await cli(['import', src(), dest, '--volume', 'vol1', '--json', ...endpoint], opts());
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(lastJson<Summary>(run)).toMatchObject({ imported: ROUNDS, failed: 0 });
  });
});

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** Runs convoy-backup import as a child process and kills it with SIGKILL at the first stderr line `killAt` accepts. */
function spawnImport(args: string[], killAt: (line: string) => boolean): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@convoy/source', '--import', path.join(REPO_ROOT, 'tools/source-resolve.ts'), MAIN, 'import', ...args],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let partial = '';
    let killed = false;
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      partial += s;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      if (!killed && lines.some(killAt)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}
