// The installed convoy-backup runs the build's bundle (bin/convoy-backup.cjs → dist/bundle/main.js,
// written by tools/bundle-app.mjs after tsc), not the modules tsc wrote. This runs that bin as a
// user would, through each part the bundle splits off or leaves external: the version from the
// app's package.json (two directories up from the bundle), a file backup and restore, a directory
// backup and restore (dirbackup and the chunker, lazily loaded chunks), an encrypted store
// (node:crypto, scrypt), and S3 (the driver chunk and the AWS SDK left in node_modules).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { s3TestEnvironment } from '@convoy/objectstore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiB, randomFile, sha256File, tempDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/convoy-backup.cjs', import.meta.url));
const PKG = fileURLToPath(new URL('../package.json', import.meta.url));
const s3 = s3TestEnvironment();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: unknown;
}

async function bin(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const r = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, maxBuffer: 16 * MiB }).then(
    (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  let json: unknown;
  try {
    json = JSON.parse(last);
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

const urlOf = (r: Run): string => {
  expect(r.code, r.stderr).toBe(0);
  return (r.json as { url: string }).url;
};

describe('the bundled convoy-backup bin', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('convoy-backup-bundle-');
  });
  afterAll(async () => {
    if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  });

  it('runs from dist/bundle and prints the version in package.json', async () => {
    await expect(fs.stat(fileURLToPath(new URL('../dist/bundle/main.js', import.meta.url)))).resolves.toBeTruthy();
    const pkg = JSON.parse(await fs.readFile(PKG, 'utf8')) as { version: string };
    const r = await bin(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('backs up and restores a file and a directory, plain and encrypted', async () => {
    const file = path.join(dir, 'disk.img');
    await randomFile(file, 5 * MiB + 123);
    const tree = path.join(dir, 'tree');
    await fs.mkdir(path.join(tree, 'sub'), { recursive: true });
    await randomFile(path.join(tree, 'sub', 'big.bin'), 3 * MiB);
    await fs.writeFile(path.join(tree, 'small.txt'), 'hello\n'.repeat(1000));
    await fs.symlink('small.txt', path.join(tree, 'link'));
    for (const encrypted of [false, true]) {
      const store = `vfs://${path.join(dir, encrypted ? 'enc' : 'plain')}`;
      const env = encrypted ? { CONVOY_PASSWORD: 'bundle test' } : {};
      if (encrypted) expect((await bin(['init', store, '--encrypt', '--json'], env)).code).toBe(0);
      const fileUrl = urlOf(await bin(['create', file, '--dest', store, '--volume', 'disk', '--json'], env));
      const treeUrl = urlOf(await bin(['create', tree, '--dest', store, '--volume', 'tree', '--json'], env));
      const back = path.join(dir, `back-${encrypted}.img`);
      expect((await bin(['restore', fileUrl, back, '--json'], env)).code).toBe(0);
      expect(await sha256File(back)).toBe(await sha256File(file));
      const backTree = path.join(dir, `back-tree-${encrypted}`);
      expect((await bin(['restore', treeUrl, backTree, '--json'], env)).code).toBe(0);
      expect(await sha256File(path.join(backTree, 'sub', 'big.bin'))).toBe(await sha256File(path.join(tree, 'sub', 'big.bin')));
      expect(await fs.readFile(path.join(backTree, 'small.txt'), 'utf8')).toBe('hello\n'.repeat(1000));
      expect(await fs.readlink(path.join(backTree, 'link'))).toBe('small.txt');
      const verify = await bin(['verify', store, '--read-data', '--json'], env);
      expect(verify.code, verify.stderr).toBe(0);
    }
  });

  it.skipIf(s3 === undefined)('backs up to radosgw and restores', async () => {
    const bucket = `convoy-bundle-${randomBytes(4).toString('hex')}`;
    const client = new S3Client({
      endpoint: s3?.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s3?.accessKeyId ?? '', secretAccessKey: s3?.secretAccessKey ?? '' },
    });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
    const env = { AWS_ACCESS_KEY_ID: s3?.accessKeyId, AWS_SECRET_ACCESS_KEY: s3?.secretAccessKey, AWS_REGION: 'us-east-1' };
    const file = path.join(dir, 's3.img');
    await randomFile(file, 3 * MiB);
    const endpoint = ['--s3-endpoint', s3?.endpoint ?? ''];
    const url = urlOf(await bin(['create', file, '--dest', `s3://${bucket}/b`, '--volume', 'v', '--json', ...endpoint], env));
    const back = path.join(dir, 's3-back.img');
    const r = await bin(['restore', url, back, '--json', ...endpoint], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await sha256File(back)).toBe(await sha256File(file));
  });
});
