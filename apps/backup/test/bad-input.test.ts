// Bad command lines fail with exit 2 (usage) or 1 (operational), code and hint in the --json error,
// a `convoy-backup: …` + `hint: …` pair on stderr without it, and nothing written anywhere.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, lastJson, listFiles, MiB, randomFile, tempDir, type CliRun, type ErrorJson } from './helpers.js';

let dir: string;
let source: string;
let storeDir: string;
let freshDir: string;
let backupUrl: string;

beforeAll(async () => {
  dir = await tempDir();
  source = path.join(dir, 'disk.img');
  await randomFile(source, 3 * MiB);
  storeDir = path.join(dir, 'store');
  freshDir = path.join(dir, 'fresh'); // must never be created
  const run = await cli(['create', source, '--dest', `vfs://${storeDir}`, '--volume', 'v']);
  expect(run.code).toBe(0);
  backupUrl = run.last;
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function expectError(run: CliRun, exit: number, code: string, hint: RegExp = /\S/): void {
  expect(run.code, run.stdout + run.stderr).toBe(exit);
  const { error } = lastJson<ErrorJson>(run);
  expect(error.code).toBe(code);
  expect(error.message).not.toBe('');
  expect(error.hint).toMatch(hint);
}

const base = (): string[] => [source, '--dest', `vfs://${freshDir}`, '--volume', 'v', '--json'];

describe('create refuses bad input before writing anything', () => {
  const cases: [string, () => string[], number, string, RegExp][] = [
    ['an unknown compression', () => ['create', ...base(), '--compression', 'brotli'], 2, 'CONVOY_INVALID_ARGUMENT', /zstd/],
    [
      'a relative vfs URL',
      () => ['create', source, '--dest', 'vfs://relative/path', '--volume', 'v', '--json'],
      2,
      'CONVOY_STORE_URL_INVALID',
      /vfs:\/\/\//,
    ],
    [
      'a bare relative path as store',
      () => ['create', source, '--dest', 'backups', '--volume', 'v', '--json'],
      2,
      'CONVOY_STORE_URL_INVALID',
      /vfs:\/\/\//,
    ],
    [
      'a volume name ../x',
      () => ['create', source, '--dest', `vfs://${freshDir}`, '--volume', '../x', '--json'],
      2,
      'CONVOY_VOLUME_NAME_INVALID',
      /volume names/,
    ],
    ['a malformed label', () => ['create', ...base(), '--label', 'novalue'], 2, 'CONVOY_USAGE', /key=value/],
    ['a malformed parent id', () => ['create', ...base(), '--parent', 'yesterday'], 2, 'CONVOY_INVALID_ARGUMENT', /backup ids/],
    ['an unknown flag', () => ['create', ...base(), '--compresion', 'zstd'], 2, 'CONVOY_USAGE', /--help/],
    ['a missing --volume', () => ['create', source, '--dest', `vfs://${freshDir}`, '--json'], 2, 'CONVOY_USAGE', /create --help/],
    [
      'credentials in an s3 URL',
      () => ['create', source, '--dest', 's3://AK:SECRET@bucket/p', '--volume', 'v', '--json'],
      2,
      'CONVOY_STORE_URL_INVALID',
      /AWS_ACCESS_KEY_ID/,
    ],
    [
      'a bad --s3-endpoint',
      () => ['create', source, '--dest', 's3://bucket-x/p', '--volume', 'v', '--s3-endpoint', 'not a url', '--json'],
      2,
      'CONVOY_USAGE',
      /http/,
    ],
    [
      'a missing source file',
      () => ['create', path.join(dir, 'nope.img'), '--dest', `vfs://${freshDir}`, '--volume', 'v', '--json'],
      1,
      'CONVOY_SOURCE_UNREADABLE',
      /exists/,
    ],
    // a directory is a source since directory backups (test/directory.test.ts); --changed is not for it
    [
      'a directory as source with --changed',
      () => ['create', dir, '--dest', `vfs://${freshDir}`, '--volume', 'v', '--changed', source, '--json'],
      2,
      'CONVOY_USAGE',
      /size and mtime/,
    ],
    [
      'a missing --changed file',
      () => ['create', ...base(), '--changed', path.join(dir, 'nope.txt')],
      1,
      'CONVOY_CHANGED_UNREADABLE',
      /--changed/,
    ],
  ];

  it.each(cases)('%s', async (_name, args, exit, code, hint) => {
    expectError(await cli(args()), exit, code, hint);
    await expect(fs.stat(freshDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a changed-extent list that is not valid', async () => {
    for (const text of ['[[0, 1]', '0 -5\n', 'ten twenty\n']) {
      const changed = path.join(dir, 'changed.txt');
      await fs.writeFile(changed, text);
      expectError(await cli(['create', ...base(), '--changed', changed]), 2, 'CONVOY_INVALID_ARGUMENT', /offset/);
      await expect(fs.stat(freshDir)).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('leaves an existing store untouched', async () => {
    const before = await listFiles(storeDir);
    for (const args of [
      ['create', path.join(dir, 'nope.img'), '--dest', `vfs://${storeDir}`, '--volume', 'v', '--json'],
      ['create', source, '--dest', `vfs://${storeDir}`, '--volume', 'v', '--compression', 'xz', '--json'],
      ['create', source, '--dest', `vfs://${storeDir}`, '--volume', 'bad/name', '--json'],
    ]) {
      expect((await cli(args)).code).not.toBe(0);
    }
    expect(await listFiles(storeDir)).toEqual(before);
  });
});

describe('errors in human mode', () => {
  it('print "convoy-backup: <message>" and "hint: <hint>" on stderr and nothing on stdout', async () => {
    const run = await cli(['create', source, '--dest', `vfs://${freshDir}`, '--volume', '../x']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^convoy-backup: invalid volume name "\.\.\/x": it does not start with a letter or digit$/);
    expect(lines[1]).toMatch(/^hint: volume names are/);
  });

  it('never print credentials given in a URL', async () => {
    const run = await cli(['list', 's3://AKIDSECRET:topsecretvalue@bucket/prefix']);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('topsecretvalue');
  });
});

describe('other commands', () => {
  it('restore wants a backup URL, not a store URL', async () => {
    expectError(await cli(['restore', `vfs://${storeDir}`, path.join(dir, 'out'), '--json']), 2, 'CONVOY_INVALID_ARGUMENT', /backup=ID/);
  });

  it('restore into a directory that does not exist fails before touching the store', async () => {
    const run = await cli(['restore', backupUrl, path.join(dir, 'no', 'such', 'dir', 'out.img'), '--json']);
    expectError(run, 2, 'CONVOY_TARGET_INVALID', /directory/);
    expect((await listFiles(storeDir)).filter((f) => f.startsWith('locks/'))).toEqual([]);
  });

  it('restore --incremental needs an existing target', async () => {
    const run = await cli(['restore', backupUrl, path.join(dir, 'absent.img'), '--incremental', '--json']);
    expectError(run, 2, 'CONVOY_TARGET_INVALID', /without --incremental/);
    expect((await listFiles(storeDir)).filter((f) => f.startsWith('locks/'))).toEqual([]);
  });

  it('verify, list and inspect reject bad URLs and volume names with exit 2', async () => {
    expectError(await cli(['verify', 'vfs://rel/x', '--json']), 2, 'CONVOY_STORE_URL_INVALID');
    expectError(await cli(['list', `vfs://${storeDir}`, '--volume', '../x', '--json']), 2, 'CONVOY_VOLUME_NAME_INVALID');
    expectError(await cli(['inspect', `${backupUrl.split('?')[0]}?backup=nope&volume=v`, '--json']), 2, 'CONVOY_INVALID_ARGUMENT');
    expectError(await cli(['delete', `ftp://host/x?backup=a&volume=v`, '--json']), 2, 'CONVOY_STORE_URL_INVALID');
  });

  it('a missing command or an unknown one is a usage error', async () => {
    expectError(await cli(['--json']), 2, 'CONVOY_USAGE');
    expectError(await cli(['backup', '--json']), 2, 'CONVOY_USAGE');
    expectError(await cli(['list', `vfs://${storeDir}`, `vfs://${storeDir}`, '--json']), 2, 'CONVOY_USAGE');
  });

  it('--help and --version print to stdout and exit 0', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['create', 'restore', 'list', 'import', 'inspect', 'delete', 'verify'])
      expect(help.stdout).toContain(`convoy-backup ${c}`);
    for (const c of ['create', 'restore', 'list', 'import', 'inspect', 'delete', 'verify']) {
      const sub = await cli([c, '--help']);
      expect(sub.code).toBe(0);
      expect(sub.stdout).toContain('Examples:');
      expect(sub.stdout).toContain(`$ convoy-backup ${c} `);
    }
    const version = await cli(['--version']);
    expect(version.code).toBe(0);
    expect(version.last).toMatch(/^\d+\.\d+\.\d+/);
  });
});
