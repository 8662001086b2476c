// convoy as a real process (bin entry, from its sources under Node 24): exit codes, signals.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeDaemon } from '@convoy/control-api/testing';
import { spawnCli } from './helpers.js';
import { progress } from './fixtures.js';

let daemon: FakeDaemon;
let dir: string;

beforeAll(async () => {
  daemon = await FakeDaemon.start();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-cli-process-'));
});
afterEach(() => daemon.reset());
afterAll(async () => {
  await daemon.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('the convoy process', () => {
  it('package.json bin is a shim that runs dist/main.js through the launcher, whose source starts with a node shebang', async () => {
    const pkg = JSON.parse(await fs.readFile(new URL('../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ convoy: './bin/convoy.cjs' });
    expect(await fs.readFile(new URL('../bin/convoy.cjs', import.meta.url), 'utf8')).toMatch(
      /^#!\/usr\/bin\/env node\n[^]*require\('@convoy\/cli-kit\/launch'\)\.launch\('convoy', __filename, require\('path'\)\.join\(__dirname, '\.\.', 'dist', 'main\.js'\)\);/,
    );
    expect(await fs.readFile(new URL('../src/main.ts', import.meta.url), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('exits 0 / 1 / 2 and prints as in-process', async () => {
    daemon.on('GET', '/v1/volumes', { json: { volumes: [] } });
    const ok = await spawnCli(['list', '--json'], { CONVOY_SOCKET: daemon.socketPath }).done;
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.last).toBe('[]');
    const down = await spawnCli(['list'], { CONVOY_SOCKET: path.join(dir, 'none.sock') }).done;
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('hint: is convoy-daemon running?');
    const usage = await spawnCli(['create', 'bad name'], {}).done;
    expect(usage.code).toBe(2);
  });

  it('Ctrl-C during a backup: the connection closes and the process exits 130', async () => {
    daemon.on('POST', '/v1/backups', { ndjson: [progress('read', 10)], hold: true });
    const p = spawnCli(['backup', 'create', 'nightly-1', '--dest', 'vfs:///mnt/bk', '--json'], { CONVOY_SOCKET: daemon.socketPath });
    await expect.poll(() => p.stderr().includes('"type":"progress"'), { timeout: 20_000 }).toBe(true);
    p.child.kill('SIGINT');
    const run = await p.done;
    expect(run.code).toBe(130);
    expect(JSON.parse(run.last)).toMatchObject({ error: { code: 'CONVOY_ABORTED' } });
    await expect.poll(() => daemon.last().disconnected).toBe(true);
  });

  it('convoy daemon: a signal to convoy reaches convoy-daemon once; convoy exits with its code', async () => {
    const fake = path.join(dir, 'fake-daemon.mjs');
    await fs.writeFile(
      fake,
      `const got = [];
       for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => { got.push(s); console.log('got ' + got.join(',')); setTimeout(() => process.exit(7), 300); });
       console.log('ready ' + process.argv.slice(2).join(' '));
       setInterval(() => {}, 1000);`,
    );
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const p = spawnCli(['daemon', '--drivers', 'vfs'], { CONVOY_DAEMON_BIN: fake });
      await expect.poll(() => p.stdout().includes('ready --drivers vfs'), { timeout: 20_000 }).toBe(true);
      p.child.kill(signal);
      const run = await p.done;
      expect(run.code).toBe(7);
      expect(run.lines).toEqual(['ready --drivers vfs', `got ${signal}`]);
    }
  });
});
