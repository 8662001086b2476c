// convoy-daemon started with --driver-opts vfs.path=<the vfs.path the original Rancher Convoy
// v0.5.2 binary used>: Convoy's volumes are there, in place, through the control API and the CLI.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlClient } from '@convoy/control-api';
import { makeRancherStore, readTree, type RancherStore } from '../../../tools/vitest/rancher-convoy.js';
import { convoy } from '../test/helpers/cli.js';
import { parseArgs } from './args.js';
import { startDaemon, type RunningDaemon } from './daemon.js';
import { createLogger } from './logger.js';

let tmp: string;
let rs: RancherStore;
let daemon: RunningDaemon;
let socket: string;
let client: ControlClient;
let vfsPath: string;
const timers = { now: () => Date.now(), setTimeout: () => 0, clearTimeout: () => undefined };

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-daemon-adopt-'));
  const work = path.join(tmp, 'convoy-go');
  await fs.mkdir(work);
  rs = await makeRancherStore(work, ['vol1', 'ab']);
  vfsPath = path.join(work, 'vols');
  socket = path.join(tmp, 'convoy.sock');
  const args = ['--root', path.join(tmp, 'root'), '--socket', socket, '--plugin-socket', 'none', '--host-id', 'h1'];
  const config = await parseArgs([...args, '--drivers', 'vfs', '--driver-opts', `vfs.path=${vfsPath}`]);
  daemon = await startDaemon(config, createLogger('silent'), { timers });
  client = new ControlClient({ socketPath: socket });
}, 180_000);
afterAll(async () => {
  await client?.close();
  await daemon?.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("the daemon on Rancher Convoy v0.5.2's vfs.path", () => {
  it('lists Convoy’s volumes and mounts one where Convoy kept it, with its files intact; snapshot and backup work', async () => {
    const listed = await convoy(socket, ['list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.last) as { name: string }[]).map((v) => v.name)).toEqual(['ab', 'vol1']);
    const v = rs.volumes.find((x) => x.name === 'vol1')!;
    const mounted = await client.mountVolume('vol1');
    expect(mounted.mountpoint).toBe(v.dir);
    expect(await readTree(mounted.mountpoint)).toEqual(v.backups[0]!.tree);
    await fs.writeFile(path.join(mounted.mountpoint, 'new.txt'), 'written through convoy-daemon\n');
    await client.createSnapshot({ volume: 'vol1', name: 'adopted-snap' });
    const backup = await client.createBackup({ snapshot: 'adopted-snap', dest: `vfs://${path.join(tmp, 'ours')}` });
    const restored = await client.createVolume({ name: 'copy', backup: backup.url });
    const copy = await client.mountVolume(restored.name);
    expect(await readTree(copy.mountpoint)).toEqual(await readTree(mounted.mountpoint));
    const info = await convoy(socket, ['info', '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(info.last).toContain('rancherConvoyAtStart');
  });
});
