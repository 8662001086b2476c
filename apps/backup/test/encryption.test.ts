// convoy-backup on encrypted stores: init --encrypt, backups and restores with the passphrase
// from the environment, a file or the terminal; wrong and missing passphrases; key add, change,
// list and remove; and no secret in any output.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, lastJson, MiB, randomFile, sha256File, tempDir, type ErrorJson } from './helpers.js';

const PASS = 'first passphrase 1';
let dir: string;
let img: string;

beforeAll(async () => {
  dir = await tempDir('convoy-backup-enc-');
  img = path.join(dir, 'vol.img');
  await randomFile(img, 5 * MiB);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

interface KeyListJson {
  keys: { id: string; current: boolean }[];
}

describe('convoy-backup on an encrypted store', () => {
  it('init --encrypt, back up and restore with CONVOY_PASSWORD or --password-file; refuse without or with a wrong one', async () => {
    const store = `vfs://${dir}/s1`;
    const env = { CONVOY_PASSWORD: PASS };
    const init = await cli(['init', store, '--encrypt', '--json'], { env });
    expect(init.code).toBe(0);
    expect(lastJson(init)).toMatchObject({ encrypted: true, keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect((await cli(['init', store, '--json'], { env })).code).toBe(1);

    const created = await cli(['create', img, '--dest', store, '--volume', 'v', '--json'], { env });
    expect(created.code).toBe(0);
    const url = lastJson<{ url: string }>(created).url;
    const passFile = path.join(dir, 'pass');
    await fs.writeFile(passFile, `${PASS}\n`, { mode: 0o600 });
    const out = path.join(dir, 'restored.img');
    expect((await cli(['restore', url, out, '--password-file', passFile])).code).toBe(0);
    expect(await sha256File(out)).toBe(await sha256File(img));
    expect((await cli(['verify', store, '--read-data', '--json'], { env })).code).toBe(0);

    const none = await cli(['list', store, '--json']);
    expect(none.code).toBe(2);
    expect(lastJson<ErrorJson>(none).error.code).toBe('CONVOY_PASSWORD_REQUIRED');
    const wrong = await cli(['list', store, '--json'], { env: { CONVOY_PASSWORD: 'not it' } });
    expect(wrong.code).toBe(2);
    expect(lastJson<ErrorJson>(wrong).error.code).toBe('CONVOY_PASSWORD_WRONG');
    for (const r of [init, created, wrong]) expect(r.stdout + r.stderr).not.toContain(PASS);
    const missingFile = await cli(['list', store, '--password-file', path.join(dir, 'nope'), '--json']);
    expect(lastJson<ErrorJson>(missingFile).error.code).toBe('CONVOY_USAGE');
  });

  it('asks on the terminal when nothing else gives the passphrase', async () => {
    const store = `vfs://${dir}/s2`;
    const prompts: string[] = [];
    const answers = [PASS, PASS];
    const init = await cli(['init', store, '--encrypt', '--json'], { readSecret: async (p) => (prompts.push(p), answers.shift() ?? '') });
    expect(init.code).toBe(0);
    expect(prompts).toEqual(['new passphrase: ', 'enter it again: ']);
    const mismatch = await cli(['init', `vfs://${dir}/s2b`, '--encrypt', '--json'], { readSecret: async (p) => p });
    expect(lastJson<ErrorJson>(mismatch).error.message).toContain('do not match');
    const asked: string[] = [];
    const listed = await cli(['list', store, '--json'], { readSecret: async (p) => (asked.push(p), PASS) });
    expect(listed.code).toBe(0);
    expect(asked).toEqual([`passphrase for ${store}: `]);
  });

  it('key add, change, list and remove: every backup stays restorable, the replaced passphrase stops working', async () => {
    const store = `vfs://${dir}/s3`;
    const env = { CONVOY_PASSWORD: PASS };
    expect((await cli(['init', store, '--encrypt'], { env })).code).toBe(0);
    const created = await cli(['create', img, '--dest', store, '--volume', 'v', '--json'], { env });
    const url = lastJson<{ url: string }>(created).url;

    const add = await cli(['key', 'add', store, '--json'], { env: { ...env, CONVOY_NEW_PASSWORD: 'second' } });
    expect(add.code).toBe(0);
    const second = lastJson<{ added: { id: string } }>(add).added.id;
    const change = await cli(['key', 'change', store, '--json'], { env: { CONVOY_PASSWORD: 'second', CONVOY_NEW_PASSWORD: 'third' } });
    expect(change.code).toBe(0);
    expect(lastJson<{ removed: string }>(change).removed).toBe(second);
    expect(lastJson<ErrorJson>(await cli(['list', store, '--json'], { env: { CONVOY_PASSWORD: 'second' } })).error.code).toBe(
      'CONVOY_PASSWORD_WRONG',
    );
    const list = lastJson<KeyListJson>(await cli(['key', 'list', store, '--json'], { env: { CONVOY_PASSWORD: 'third' } }));
    expect(list.keys).toHaveLength(2);
    const third = list.keys.find((k) => k.current)!.id;
    const inUse = await cli(['key', 'remove', store, third, '--json'], { env: { CONVOY_PASSWORD: 'third' } });
    expect(lastJson<ErrorJson>(inUse).error.code).toBe('CONVOY_KEY_IN_USE');
    expect((await cli(['key', 'remove', store, third], { env })).code).toBe(0);
    const out = path.join(dir, 'after-change.img');
    expect((await cli(['restore', url, out], { env })).code).toBe(0);
    expect(await sha256File(out)).toBe(await sha256File(img));
    const noNew = await cli(['key', 'add', store, '--json'], { env });
    expect(lastJson<ErrorJson>(noNew).error.code).toBe('CONVOY_USAGE');
  });

  it('key commands on a plain store say it is not encrypted', async () => {
    const store = `vfs://${dir}/plain`;
    expect((await cli(['init', store])).code).toBe(0);
    const r = await cli(['key', 'add', store, '--json'], { env: { CONVOY_NEW_PASSWORD: 'x' } });
    expect(lastJson<ErrorJson>(r).error.code).toBe('CONVOY_INVALID_ARGUMENT');
  });
});
