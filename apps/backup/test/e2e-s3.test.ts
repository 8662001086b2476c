// End to end: the real convoy-backup process (built from source: Node 24 strips the types, the
// @convoy/source condition and tools/source-resolve.ts resolve the workspace sources) against the
// real radosgw of the test run. create + restore of a 9 MiB file; SIGINT during a 200 MiB create
// exits 130 and leaves a store that verifies clean, holds no lock, and takes the next backup.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { s3TestEnvironment } from '@convoy/objectstore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../tools/vitest/project-defaults.js';
import { MiB, randomFile, sha256File, tempDir } from './helpers.js';

const s3 = s3TestEnvironment();
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const HOOK = path.join(REPO_ROOT, 'tools/source-resolve.ts');

interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  last: string;
}

/** Runs `node src/main.ts ARGS` with the S3 credentials in its environment. */
function convoyBackup(
  args: string[],
  options: { onStderrLine?: (line: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<ProcessRun> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: s3?.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3?.secretAccessKey,
    AWS_REGION: 'us-east-1',
  };
  delete env.AWS_ENDPOINT_URL; // the endpoint comes from --s3-endpoint
  delete env.AWS_ENDPOINT_URL_S3;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@convoy/source', '--import', HOOK, MAIN, ...args, '--s3-endpoint', s3?.endpoint ?? ''],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      partial += s;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) options.onStderrLine?.(line, child);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const lines = stdout.split('\n').filter((l) => l !== '');
      resolve({ code, signal, stdout, stderr, last: lines.at(-1) ?? '' });
    });
  });
}

describe.skipIf(s3 === undefined)('convoy-backup process against radosgw', () => {
  let dir: string;
  let store: string;
  let client: S3Client;
  let bucket: string;

  beforeAll(async () => {
    dir = await tempDir();
    bucket = `convoy-backup-e2e-${randomBytes(4).toString('hex')}`;
    client = new S3Client({
      endpoint: s3?.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s3?.accessKeyId ?? '', secretAccessKey: s3?.secretAccessKey ?? '' },
    });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    store = `s3://${bucket}/backups`;
  });
  afterAll(async () => {
    client?.destroy();
    if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  });

  async function keys(prefix: string): Promise<string[]> {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `backups/${prefix}` }));
    return (out.Contents ?? []).map((o) => o.Key ?? '');
  }

  it('creates a backup of a 9 MiB file and restores it bit-exact', async () => {
    const source = path.join(dir, 'nine.img');
    await randomFile(source, 9 * MiB);
    const created = await convoyBackup(['create', source, '--dest', store, '--volume', 'nine']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.last).toMatch(new RegExp(`^s3://${bucket}/backups\\?backup=[^&]+&volume=nine$`));
    expect(created.stdout + created.stderr).not.toContain(s3?.secretAccessKey);

    const target = path.join(dir, 'nine.restored');
    const restored = await convoyBackup(['restore', created.last, target]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await sha256File(target)).toBe(await sha256File(source));
  });

  it('SIGINT during a 200 MiB create: exit 130, store consistent, no lock left, next create works', { timeout: 180_000 }, async () => {
    const source = path.join(dir, 'big.img');
    await randomFile(source, 200 * MiB);
    let signalled = false;
    const run = await convoyBackup(['create', source, '--dest', store, '--volume', 'big', '--json'], {
      onStderrLine: (line, child) => {
        if (!signalled && line.startsWith('{') && (JSON.parse(line) as { type?: string }).type === 'progress') {
          signalled = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(signalled).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    expect(JSON.parse(run.last)).toMatchObject({ error: { code: 'CONVOY_ABORTED', hint: expect.any(String) } });
    expect(await keys('locks/')).toEqual([]);
    expect(await keys('volumes/big/')).toEqual([]);

    const verify = await convoyBackup(['verify', store, '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.last)).toMatchObject({ ok: true, backupsChecked: 1, problems: [] });

    const again = await convoyBackup(['create', path.join(dir, 'nine.img'), '--dest', store, '--volume', 'big', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.last)).toMatchObject({ volume: 'big', stats: { blocksUploaded: 0 } }); // deduplicated
    const list = await convoyBackup(['list', store, '--json']);
    expect((JSON.parse(list.last) as { volume: string }[]).map((e) => e.volume)).toEqual(['big', 'nine']);
  });
});
