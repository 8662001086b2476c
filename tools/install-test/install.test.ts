// tools/install.sh into a throw-away root (DESTDIR): what it puts where, that the installed tree
// runs on its own Node with nothing but production dependencies, whatever `node` is on PATH, that a
// re-run upgrades in place and keeps the configuration, and that --uninstall keeps config and data.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oldNodeOnPath, type OldNode } from '@convoy/cli-kit/testing';
import { REPO_ROOT } from '../vitest/project-defaults.js';

const run = promisify(execFile);
const LIB = '/usr/lib/convoy';
const BINS = ['convoy', 'convoy-daemon', 'convoy-backup'];
const built = ['cli', 'daemon', 'backup'].every((a) => existsSync(path.join(REPO_ROOT, 'apps', a, 'dist', 'main.js')));

let tmp: string;
let dest: string;
let old: OldNode;

/** DESTDIR=dest bash tools/install.sh ARGS (the build is the build stage's: --no-build). */
const install = (...args: string[]) =>
  run('bash', [path.join(REPO_ROOT, 'tools/install.sh'), ...args], { env: { ...process.env, DESTDIR: dest }, maxBuffer: 16 << 20 });

/** An installed /usr/bin script, pointed at the tree under DESTDIR, as a shell command line. */
async function bin(name: string): Promise<string> {
  const text = await fs.readFile(path.join(dest, 'usr/bin', name), 'utf8');
  return text.replaceAll(`${LIB}/`, `${dest}${LIB}/`);
}

/** Runs an installed bin with only an old node (or none) on PATH. */
async function runBin(name: string, args: string[], env: Record<string, string> = {}) {
  return run('sh', ['-c', await bin(name), name, ...args], { env: { PATH: `${old.dir}:/usr/bin:/bin`, ...env }, cwd: tmp });
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-install-'));
  dest = path.join(tmp, 'dest');
  old = await oldNodeOnPath(path.join(tmp, 'old-node'));
  if (built || process.env.CI === 'true') await install('--no-build');
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

// Outside CI a checkout that was never built skips these; CI builds first (tools/test-all.sh).
describe.skipIf(!built && process.env.CI !== 'true')('tools/install.sh', () => {
  it('installs the apps, their production dependencies only and the pinned Node in /usr/lib/convoy', async () => {
    const lib = path.join(dest, LIB);
    const { stdout } = await run(path.join(lib, 'node_modules/node/bin/node'), ['--version']);
    expect(stdout.trim()).toBe(`v${process.versions.node}`);
    for (const f of [
      'README.md',
      'apps/daemon/dist/main.js',
      'apps/daemon/deploy/convoy.service',
      'apps/cli/bin/convoy.cjs',
      'packages/cli-kit/bin/launch.cjs',
      'node_modules/pino/package.json',
    ]) {
      expect(existsSync(path.join(lib, f)), f).toBe(true);
    }
    for (const dev of ['vitest', 'typescript', 'nx', 'eslint', 'fast-check', '@types/node'])
      expect(existsSync(path.join(lib, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(path.join(lib, 'packages/volumes/src'))).toBe(false); // no sources, no tests
    expect(await fs.readlink(path.join(lib, 'node_modules/@convoy/volumes'))).toBe('../../packages/volumes');
  });

  it('puts the three bins in /usr/bin: each runs on the installed Node, with an old node on PATH or none', async () => {
    for (const name of BINS) {
      const text = await fs.readFile(path.join(dest, 'usr/bin', name), 'utf8');
      expect(text).toMatch(
        new RegExp(`^#!/bin/sh\n[^]*\nexec ${LIB}/node_modules/node/bin/node ${LIB}/apps/\\w+/bin/${name}\\.cjs "\\$@"\n$`),
      );
      expect((await fs.stat(path.join(dest, 'usr/bin', name))).mode & 0o777).toBe(0o755);
      expect((await runBin(name, ['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      expect((await run('/bin/sh', ['-c', await bin(name), name, '--help'], { env: { PATH: '/nonexistent' } })).stdout).toMatch(
        new RegExp(`${name}`),
      );
    }
  });

  it('the installed convoy-backup (a bundle, its native addons in the installed node_modules) backs up and restores', async () => {
    const version = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'apps/backup/package.json'), 'utf8')) as { version: string };
    expect((await runBin('convoy-backup', ['--version'])).stdout.trim()).toBe(version.version);
    const source = path.join(tmp, 'disk.img');
    await fs.writeFile(source, Buffer.concat([randomBytes(3 << 20), Buffer.alloc(2 << 20, 'text ')]));
    const store = `vfs://${path.join(tmp, 'bstore')}`;
    for (const compression of ['zstd', 'lz4']) {
      const created = await runBin('convoy-backup', [
        'create',
        source,
        '--dest',
        store,
        '--volume',
        compression,
        '--compression',
        compression,
        '--json',
      ]);
      const url = (JSON.parse(created.stdout.trim().split('\n').at(-1) ?? '') as { url: string }).url;
      const target = path.join(tmp, `back-${compression}.img`);
      await runBin('convoy-backup', ['restore', url, target, '--json']);
      expect((await fs.readFile(target)).equals(await fs.readFile(source))).toBe(true);
    }
  });

  it('the installed daemon serves volumes that the installed convoy lists', async () => {
    const env = { CONVOY_SOCKET: path.join(tmp, 'c.sock') };
    const argv = [
      '--root',
      path.join(tmp, 'root'),
      '--plugin-socket',
      path.join(tmp, 'p.sock'),
      '--socket',
      env.CONVOY_SOCKET,
      '--host-id',
      'installed',
    ];
    const daemon = spawn('sh', ['-c', await bin('convoy-daemon'), 'convoy-daemon', ...argv], {
      env: { PATH: `${old.dir}:/usr/bin:/bin` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    daemon.stderr.setEncoding('utf8').on('data', (c: string) => (log += c));
    const exited = new Promise<number | null>((resolve) => daemon.once('close', resolve));
    try {
      await expect.poll(() => log.includes('convoy-daemon ready'), { timeout: 60_000 }).toBe(true);
      expect(log).toContain(`"drivers":{"vfs":"${path.join(tmp, 'root', 'drivers', 'vfs')}"}`);
      await runBin('convoy', ['create', 'v1'], env);
      const list = JSON.parse((await runBin('convoy', ['list', '--json'], env)).stdout) as { name: string }[];
      expect(list.map((v) => v.name)).toEqual(['v1']);
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('writes /etc/convoy/convoy.json (the defaults) and convoy.env (0600), installs and enables the unit', async () => {
    expect(await fs.readFile(path.join(dest, 'etc/convoy/convoy.json'), 'utf8')).toBe(
      await fs.readFile(path.join(REPO_ROOT, 'apps/daemon/deploy/convoy.json'), 'utf8'),
    );
    expect((await fs.stat(path.join(dest, 'etc/convoy/convoy.env'))).mode & 0o777).toBe(0o600);
    const unit = await fs.readFile(path.join(dest, 'usr/lib/systemd/system/convoy.service'), 'utf8');
    expect(unit).toContain('\nExecStart=/usr/bin/convoy-daemon --config /etc/convoy/convoy.json\n');
    expect(unit).toContain('Documentation=file:///usr/lib/convoy/README.md');
    expect(await fs.readlink(path.join(dest, 'etc/systemd/system/multi-user.target.wants/convoy.service'))).toBe(
      '/usr/lib/systemd/system/convoy.service',
    );
  });

  it('a second run upgrades in place: a new tree, the configuration kept', async () => {
    await fs.writeFile(path.join(dest, 'etc/convoy/convoy.json'), '{ "logLevel": "debug" }\n');
    await fs.writeFile(path.join(dest, LIB, 'left-from-before'), 'x');
    const { stdout } = await install('--no-build');
    expect(stdout).toContain('upgraded convoy');
    expect(stdout).toContain('kept /etc/convoy/convoy.json');
    expect(existsSync(path.join(dest, LIB, 'left-from-before'))).toBe(false);
    expect(await fs.readFile(path.join(dest, 'etc/convoy/convoy.json'), 'utf8')).toBe('{ "logLevel": "debug" }\n');
    expect((await fs.readdir(path.join(dest, 'usr/lib'))).sort()).toEqual(['convoy', 'systemd']); // no staging left
  });

  it('--uninstall removes all but the configuration and the data', async () => {
    await fs.mkdir(path.join(dest, 'var/lib/convoy/drivers/vfs'), { recursive: true });
    await install('--uninstall');
    for (const gone of [
      LIB,
      'usr/lib/systemd/system/convoy.service',
      'etc/systemd/system/multi-user.target.wants/convoy.service',
      ...BINS.map((b) => `usr/bin/${b}`),
    ]) {
      expect(existsSync(path.join(dest, gone)), gone).toBe(false);
    }
    for (const kept of ['etc/convoy/convoy.json', 'etc/convoy/convoy.env', 'var/lib/convoy/drivers/vfs'])
      expect(existsSync(path.join(dest, kept)), kept).toBe(true);
  });
});
