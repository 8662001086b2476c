// The daemon on encrypted backup stores: the passphrase from --backup-password-file (or
// $CONVOY_PASSWORD), backups and restores through the control API, no plaintext in the store, and
// a wrong or missing passphrase refused clearly without the passphrase in any answer.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initStore } from '@convoy/blockstore';
import { ControlClient } from '@convoy/control-api';
import { FsObjectStore } from '@convoy/objectstore';
import { rejectionOf } from '@convoy/objectstore/testing';
import { parseArgs } from './args.js';
import { startDaemon, type RunningDaemon } from './daemon.js';
import { createLogger } from './logger.js';
import { daemonPassphrase, storeOpener } from './store-open.js';

const PASS = 'daemon passphrase 7';
const FAST = { algorithm: 'scrypt', N: 1024, r: 8, p: 1 } as const;
let tmp: string;
let daemon: RunningDaemon;
let client: ControlClient;
const timers = { now: () => Date.now(), setTimeout: () => 0, clearTimeout: () => undefined };

async function encryptedStoreAt(dir: string, passphrase: string): Promise<string> {
  const s = await new FsObjectStore(dir).open();
  await initStore(s, { compression: 'zstd', now: new Date(), passphrase, kdf: FAST });
  await s.close();
  return `vfs://${dir}`;
}

async function everyByte(dir: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && !e.name.startsWith('convoy.json') && !e.parentPath.includes('/keys'))
      out.push(await fs.readFile(path.join(e.parentPath, e.name)));
  }
  return out;
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-daemon-enc-'));
  const passFile = path.join(tmp, 'pass');
  await fs.writeFile(passFile, `${PASS}\n`, { mode: 0o600 });
  const config = await parseArgs([
    '--root',
    path.join(tmp, 'root'),
    '--socket',
    path.join(tmp, 'convoy.sock'),
    '--plugin-socket',
    'none',
    '--drivers',
    'vfs',
    '--driver-opts',
    `vfs.path=${path.join(tmp, 'vfs')}`,
    '--backup-password-file',
    passFile,
  ]);
  daemon = await startDaemon(config, createLogger('silent'), { timers });
  client = new ControlClient({ socketPath: path.join(tmp, 'convoy.sock') });
}, 180_000);
afterAll(async () => {
  await client?.close();
  await daemon?.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('the daemon on encrypted backup stores', () => {
  it('backs up a volume into an encrypted store and restores it into a new volume; the store holds no plaintext', async () => {
    const dest = await encryptedStoreAt(path.join(tmp, 'store'), PASS);
    await client.createVolume({ name: 'db' });
    const m = await client.mountVolume('db');
    const secret = 'customer-record-4242 '.repeat(5000);
    await fs.writeFile(path.join(m.mountpoint, 'table.dat'), secret);
    await client.createSnapshot({ volume: 'db', name: 'db-snap' });
    const backup = await client.createBackup({ snapshot: 'db-snap', dest });
    const restored = await client.createVolume({ name: 'db-copy', backup: backup.url });
    const copy = await client.mountVolume(restored.name);
    expect(await fs.readFile(path.join(copy.mountpoint, 'table.dat'), 'utf8')).toBe(secret);
    const objects = await everyByte(path.join(tmp, 'store'));
    expect(objects.length).toBeGreaterThan(3);
    for (const b of objects) {
      expect(b.includes(Buffer.from('customer-record'))).toBe(false);
      expect(b.includes(Buffer.from('table.dat'))).toBe(false);
    }
    expect((await client.listBackups(dest)).map((b) => b.url)).toEqual([backup.url]);
  });

  it('a store with another passphrase is refused with CONVOY_PASSWORD_WRONG, naming no passphrase', async () => {
    const other = await encryptedStoreAt(path.join(tmp, 'other'), 'someone else');
    await client.createSnapshot({ volume: 'db', name: 'db-snap2' });
    const err = await rejectionOf(client.createBackup({ snapshot: 'db-snap2', dest: other }));
    expect(err.code).toBe('CONVOY_PASSWORD_WRONG');
    expect(JSON.stringify(err)).not.toContain(PASS);
    expect(err.message).not.toContain(PASS);
  });

  it('without a passphrase file, $CONVOY_PASSWORD is used; with neither, CONVOY_PASSWORD_REQUIRED', async () => {
    const dest = await encryptedStoreAt(path.join(tmp, 'envstore'), 'from env');
    expect(await daemonPassphrase({ passwordFile: undefined, env: { CONVOY_PASSWORD: 'from env' } })).toBe('from env');
    const open = storeOpener({ s3: {}, passwordFile: undefined, env: { CONVOY_PASSWORD: 'from env' } });
    await (await open(dest)).close();
    const none = storeOpener({ s3: {}, passwordFile: undefined, env: {} });
    expect((await rejectionOf(none(dest))).code).toBe('CONVOY_PASSWORD_REQUIRED');
    const missing = storeOpener({ s3: {}, passwordFile: path.join(tmp, 'nope'), env: {} });
    expect((await rejectionOf(missing(dest))).code).toBe('CONVOY_PASSWORD_REQUIRED');
    // an empty file is named as such, and $CONVOY_PASSWORD does not stand in for the file configured
    await fs.writeFile(path.join(tmp, 'empty'), '\n');
    const empty = storeOpener({ s3: {}, passwordFile: path.join(tmp, 'empty'), env: { CONVOY_PASSWORD: 'from env' } });
    const err = await rejectionOf(empty(dest));
    expect(err.code).toBe('CONVOY_PASSWORD_REQUIRED');
    expect(err.message).toContain('is empty');
  });
});
