// The managed Docker plugin's life cycle against the real dockerd: tools/plugin/build.sh builds it,
// `docker plugin create/set/enable` installs it, Docker creates and mounts its volumes, the convoy
// CLI on the host snapshots and backs up through the plugin's control socket, a backup becomes a new
// volume, and the plugin is disabled and removed. Then the settings a user gets wrong: an unset
// vfs mount, a missing host directory, `plugin set` while enabled, disable while volumes exist.
//
// The plugin gets a name of its own (convoy-test-<random>) and its sockets live under
// /run/docker/plugins/<id>/ and the test's temp dir: it never meets the other Docker tests'
// legacy socket /run/docker/plugins/convoy.sock.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { DockerTestTarget } from '../../apps/daemon/test/docker-global-setup.js';
import { convoy, convoyOk } from '../../apps/daemon/test/helpers/cli.js';
import { docker, dockerOk, inspectVolume, runCommand, runInVolume } from '../../apps/daemon/test/helpers/docker.js';
import { CONTAINER_LABEL, REPO_ROOT } from '../../apps/daemon/test/helpers/env.js';

const target: DockerTestTarget = inject('convoyDocker');
const built = ['daemon', 'cli'].every((a) => existsSync(path.join(REPO_ROOT, 'apps', a, 'dist', 'main.js')));
const ci = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI.toLowerCase());
const POLL = { timeout: 30_000, interval: 200 };

interface PluginConfig {
  interface: { types: string[]; socket: string };
  entrypoint: string[];
  propagatedMount: string;
  linux: { capabilities: string[]; allowAllDevices: boolean };
  mounts: { name: string; source: string; destination: string; settable?: string[] }[];
  env: { name: string; value: string; settable?: string[] }[];
}

/** `bash tools/plugin/build.sh OUT` → OUT. */
async function buildPlugin(out: string): Promise<void> {
  const r = await runCommand('bash', [path.join(REPO_ROOT, 'tools/plugin/build.sh'), out], 280_000);
  if (r.code !== 0) throw new Error(`tools/plugin/build.sh exited ${r.code}:\n${r.stderr}${r.stdout}`);
}

// Outside CI a checkout that was never built skips (like tools/install-test); CI builds first.
describe.skipIf(!target.available || (!built && !ci))('the managed Docker plugin (tools/plugin)', () => {
  const plugin = `convoy-test-${randomBytes(4).toString('hex')}`;
  const driver = `${plugin}:latest`;
  const v1 = `${plugin}-v1`;
  const v2 = `${plugin}-v2`;
  const v3 = `${plugin}-v3`;
  let tmp: string;
  let dir: string;
  let vfs: string;
  let backups: string;
  let control: string;
  let socket: string;
  let snapshot = '';
  let backupUrl = '';

  const set = (...settings: string[]): Promise<string> => dockerOk(['plugin', 'set', plugin, ...settings]);
  const enabled = async (): Promise<boolean> => (await dockerOk(['plugin', 'inspect', '-f', '{{.Enabled}}', plugin])) === 'true';

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-plugin-'));
    dir = path.join(tmp, 'plugin');
    vfs = path.join(tmp, 'vfs');
    backups = path.join(tmp, 'backups');
    control = path.join(tmp, 'run');
    socket = path.join(control, 'convoy', 'convoy.sock');
    for (const d of [vfs, backups, control]) await fs.mkdir(d);
    await buildPlugin(dir);
  });

  afterAll(async () => {
    const problems: string[] = [];
    const containers = (await docker(['ps', '-aq', '--filter', `label=${CONTAINER_LABEL}`])).stdout.trim();
    if (containers !== '') await docker(['rm', '-f', ...containers.split('\n')]);
    if ((await docker(['plugin', 'inspect', plugin])).code === 0) {
      for (const v of [v1, v2, v3]) await docker(['volume', 'rm', '-f', v]);
      const rm = await docker(['plugin', 'rm', '-f', plugin]);
      if (rm.code !== 0) problems.push(`docker plugin rm -f ${plugin}: ${rm.stderr.trim()}`);
    }
    await fs.rm(tmp, { recursive: true, force: true });
    expect(problems).toEqual([]);
  });

  it('build.sh writes a config.json for a volume driver and a rootfs whose own Node runs the daemon', async () => {
    const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')) as PluginConfig;
    expect(config.interface).toEqual({ types: ['docker.volumedriver/1.0'], socket: 'convoy.sock' });
    expect(config.propagatedMount).toBe('/var/lib/convoy/mounts');
    expect(config.linux).toMatchObject({ capabilities: ['CAP_SYS_ADMIN'], allowAllDevices: true });
    const vfsMount = config.mounts.find((m) => m.name === 'vfs');
    expect(vfsMount?.settable).toEqual(['source']);
    expect(vfsMount?.destination.startsWith(`${config.propagatedMount}/`)).toBe(true);
    expect(config.env.map((e) => e.name)).toEqual(
      expect.arrayContaining(['DRIVERS', 'DRIVER_OPTS', 'S3_ENDPOINT', 'AWS_SECRET_ACCESS_KEY']),
    );
    // no secret in the config: every credential is set later with docker plugin set
    expect(config.env.filter((e) => e.name.startsWith('AWS_')).map((e) => e.value)).toEqual(['', '', '']);
    const rootfs = path.join(dir, 'rootfs');
    for (const f of [
      'usr/lib/convoy/node_modules/node/bin/node',
      'usr/lib/convoy/apps/daemon/dist/main.js',
      'bin/sh',
      'lib64/ld-linux-x86-64.so.2',
    ]) {
      expect(existsSync(path.join(rootfs, f)), f).toBe(true);
    }
    // the entrypoint's daemon, in a chroot of the rootfs: nothing from the host is needed
    const r = await runCommand('chroot', [rootfs, '/usr/bin/convoy-daemon', '--version'], 60_000, {
      env: { PATH: '/usr/sbin:/usr/bin:/bin' },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    // the host tools run on the staged libraries: GNU tar, cp, sync always (vfs), devicemapper's where the host has them
    const tools: [string, string[]][] = [
      ['usr/bin/tar', ['--version']],
      ['usr/bin/cp', ['--version']],
      ['usr/bin/sync', ['--version']],
      ['usr/sbin/mkfs.ext4', ['-V']],
      ['usr/sbin/mkfs.xfs', ['-V']],
      ['usr/sbin/thin_ls', ['-V']],
      ['usr/sbin/thin_delta', ['-V']],
      ['usr/sbin/losetup', ['--version']],
      ['usr/bin/mount', ['--version']],
    ];
    for (const [tool, args] of tools) {
      if (!['tar', 'cp', 'sync'].includes(path.basename(tool)) && !existsSync(path.join(rootfs, tool))) continue;
      const t = await runCommand('chroot', [rootfs, `/${tool}`, ...args], 30_000, { env: { PATH: '/usr/sbin:/usr/bin:/bin' } });
      expect(t.code, `${tool}: ${t.stderr}`).toBe(0);
    }
  });

  it('docker plugin create, set and enable start the daemon; the convoy CLI reaches it on the host', async () => {
    expect(await dockerOk(['plugin', 'create', plugin, dir])).toBe(plugin);
    expect(await enabled()).toBe(false);
    await set(`vfs.source=${vfs}`, `backups.source=${backups}`, `control.source=${control}`, 'LOG_LEVEL=debug');
    await dockerOk(['plugin', 'enable', plugin]);
    expect(await enabled()).toBe(true);
    // the control socket comes up beside the plugin socket Docker already dialled
    await vi.waitFor(async () => expect((await convoy(socket, ['list'])).code).toBe(0), POLL);
    expect((await convoy(socket, ['list'])).stdout.trim()).toBe('no volumes');
  });

  it('docker volume create -d <plugin> makes a vfs volume in the host directory given as vfs.source', async () => {
    expect(await dockerOk(['volume', 'create', '-d', plugin, v1])).toBe(v1);
    const inspected = await inspectVolume(v1);
    expect(inspected).toMatchObject({ Name: v1, Driver: driver, Scope: 'local' }); // vfs.shared not set
    const uuid = String(inspected.Status?.uuid);
    expect(existsSync(path.join(vfs, 'data', uuid))).toBe(true);
    expect(await convoyOk(socket, ['list'])).toContain(uuid);
  });

  it('a container writes into the volume; the file lands in the host vfs directory', async () => {
    await runInVolume(v1, 'echo hello from the plugin > /data/f');
    const uuid = String((await inspectVolume(v1)).Status?.uuid);
    expect(await fs.readFile(path.join(vfs, 'data', uuid, 'f'), 'utf8')).toBe('hello from the plugin\n');
  });

  it('the host CLI snapshots the volume and backs it up to a vfs:// store in the backups mount', async () => {
    snapshot = await convoyOk(socket, ['snapshot', 'create', v1]);
    expect(snapshot).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]+$/);
    const dest = 'vfs:///var/lib/convoy/backups/store';
    backupUrl = await convoyOk(socket, ['backup', 'create', snapshot, '--dest', dest]);
    expect(backupUrl.startsWith(`${dest}?`)).toBe(true);
    expect(new URL(backupUrl).searchParams.get('volume')).toBe(v1);
    // the store is on the host, in the directory given as backups.source
    expect((await fs.readdir(path.join(backups, 'store'))).length).toBeGreaterThan(0);
  });

  it('a vfs:// store outside the backups mount is refused: it would land in the plugin rootfs', async () => {
    const r = await convoy(socket, ['backup', 'create', snapshot, '--dest', 'vfs:///srv/convoy-backups']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('vfs:///srv/convoy-backups is outside');
    expect(r.stderr).toContain('backups.source');
  });

  it('docker volume create -o backup=URL restores the file into a new volume', async () => {
    expect(await dockerOk(['volume', 'create', '-d', plugin, '-o', `backup=${backupUrl}`, v2])).toBe(v2);
    expect(await runInVolume(v2, 'cat /data/f')).toBe('hello from the plugin');
    expect((await inspectVolume(v2)).Status?.uuid).not.toBe((await inspectVolume(v1)).Status?.uuid);
  });

  it('while volumes exist, disable is refused; plugin set is refused while enabled', async () => {
    expect((await docker(['plugin', 'disable', plugin])).stderr).toMatch(/in use/);
    expect(await enabled()).toBe(true);
    expect((await docker(['plugin', 'set', plugin, 'LOG_LEVEL=info'])).stderr).toMatch(/disable plugin before setting/);
  });

  it('docker volume rm removes the volumes and their data; then the plugin disables and its control socket goes', async () => {
    const uuids = [String((await inspectVolume(v1)).Status?.uuid), String((await inspectVolume(v2)).Status?.uuid)];
    expect(await dockerOk(['volume', 'rm', v1, v2])).toBe(`${v1}\n${v2}`);
    for (const uuid of uuids) expect(existsSync(path.join(vfs, 'data', uuid))).toBe(false);
    await dockerOk(['plugin', 'disable', plugin]);
    expect(await enabled()).toBe(false);
    expect(existsSync(socket)).toBe(false);
    expect((await convoy(socket, ['list'])).code).not.toBe(0);
  });

  it('an unset vfs mount is refused with a message naming the setting, in a file in the control directory', async () => {
    await set('vfs.source=');
    const r = await docker(['plugin', 'enable', plugin]);
    expect(r.code).not.toBe(0);
    expect(await enabled()).toBe(false);
    const log = await fs.readFile(path.join(control, 'convoy', 'plugin-error.log'), 'utf8');
    expect(log).toContain('the vfs mount has no source');
    expect(log).toContain(`docker plugin set <plugin> vfs.source=/host/dir`);
  });

  it('a vfs directory that does not exist on the host is refused by enable, naming it', async () => {
    const missing = path.join(tmp, 'no-such-dir');
    await set(`vfs.source=${missing}`);
    const r = await docker(['plugin', 'enable', plugin]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toMatch(/no such file or directory/);
    expect(await enabled()).toBe(false);
  });

  it('docker plugin rm -f of an enabled plugin with a volume removes the plugin and keeps the volume data on the host', async () => {
    await set(`vfs.source=${vfs}`);
    await dockerOk(['plugin', 'enable', plugin]);
    expect(await dockerOk(['volume', 'create', '-d', plugin, v3])).toBe(v3);
    await runInVolume(v3, 'echo kept > /data/f');
    const uuid = String((await inspectVolume(v3)).Status?.uuid);
    await dockerOk(['plugin', 'rm', '-f', plugin]);
    expect((await docker(['plugin', 'inspect', plugin])).code).not.toBe(0);
    expect(await fs.readFile(path.join(vfs, 'data', uuid, 'f'), 'utf8')).toBe('kept\n');
  });
});
