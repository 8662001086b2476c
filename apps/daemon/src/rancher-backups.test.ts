// `convoy backup list` and `convoy backup inspect` through the real daemon on a backup store the
// original Rancher Convoy v0.5.2 binary made: the daemon lists Convoy's backups (with Convoy's own
// fields) beside ours, and inspect of a Convoy URL, as Convoy printed it, shows Convoy's fields.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlClient } from '@convoy/control-api';
import { makeRancherStore, type RancherStore } from '../../../tools/vitest/rancher-convoy.js';
import { convoy } from '../test/helpers/cli.js';
import { parseArgs } from './args.js';
import { startDaemon, type RunningDaemon } from './daemon.js';
import { createLogger } from './logger.js';

let tmp: string;
let rs: RancherStore;
let daemon: RunningDaemon;
let socket: string;
let client: ControlClient;
const timers = { now: () => Date.now(), setTimeout: () => 0, clearTimeout: () => undefined };
const RUBY_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} \d{4}$/;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-daemon-rancher-'));
  const work = path.join(tmp, 'convoy-go');
  await fs.mkdir(work);
  rs = await makeRancherStore(work, ['vol1', 'ab'], { backups: 2 });
  socket = path.join(tmp, 'convoy.sock');
  const config = await parseArgs([
    '--root',
    path.join(tmp, 'root'),
    '--socket',
    socket,
    '--plugin-socket',
    'none',
    '--host-id',
    'h1',
    '--drivers',
    'vfs',
    '--driver-opts',
    `vfs.path=${path.join(tmp, 'vfs')}`,
  ]);
  daemon = await startDaemon(config, createLogger('silent'), { timers });
  client = new ControlClient({ socketPath: socket });
}, 180_000);
afterAll(async () => {
  await client?.close();
  await daemon?.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("Rancher Convoy v0.5.2's backups through the daemon", () => {
  it("GET /v1/backups lists Convoy's backups with Convoy's fields, oldest first; --volume narrows it", async () => {
    const store = `vfs://${rs.storeDir}`;
    const listed = await client.listBackups(store);
    const all = rs.volumes.flatMap((v) => v.backups.map((b) => ({ v, b })));
    expect(listed).toHaveLength(all.length);
    expect(listed.map((b) => b.created)).toEqual(listed.map((b) => b.created).sort());
    for (const { v, b } of all) {
      const e = listed.find((x) => x.id === b.backup);
      expect(e).toMatchObject({
        volume: v.name,
        snapshot: b.snapshot,
        parent: null,
        format: 'rancher-convoy-v0.5.2',
        driver: 'vfs',
        url: `${store}?backup=${b.backup}&volume=${v.name}`,
        convoy: {
          BackupName: b.backup,
          BackupURL: `${store}?backup=${b.backup}&volume=${v.name}`,
          DriverName: 'vfs',
          SnapshotName: b.snapshot,
          VolumeName: v.name,
          VolumeSize: '0',
        },
      });
      expect(e?.convoy?.CreatedTime).toMatch(RUBY_DATE);
      expect(e?.convoy?.VolumeCreatedAt).toMatch(RUBY_DATE);
      expect(e?.convoy?.SnapshotCreatedAt).toMatch(RUBY_DATE);
      expect(Object.keys(e?.convoy ?? {})).toEqual([
        'BackupName',
        'BackupURL',
        'CreatedTime',
        'DriverName',
        'SnapshotCreatedAt',
        'SnapshotName',
        'VolumeCreatedAt',
        'VolumeName',
        'VolumeSize',
      ]);
    }
    expect((await client.listBackups(store, 'ab')).map((b) => b.volume)).toEqual(['ab', 'ab']);
  });

  it('convoy backup list (the CLI process) shows them, marked as Rancher Convoy v0.5.2 backups', async () => {
    const r = await convoy(socket, ['backup', 'list', `vfs://${rs.storeDir}`]);
    expect(r.code, r.stderr).toBe(0);
    for (const v of rs.volumes) for (const b of v.backups) expect(r.stdout).toContain(b.backup);
    expect(r.stdout).toContain('Rancher Convoy v0.5.2 vfs');
    const json = await convoy(socket, ['backup', 'list', `vfs://${rs.storeDir}`, '--volume', 'vol1', '--json']);
    expect((JSON.parse(json.last) as { id: string }[]).map((b) => b.id).sort()).toEqual(rs.volumes[0]!.backups.map((b) => b.backup).sort());
  });

  it('convoy backup inspect of the URL exactly as Convoy printed it (\\u0026) shows Convoy’s fields', async () => {
    const v = rs.volumes.find((x) => x.name === 'vol1')!;
    expect(v.url).toContain('\\u0026');
    const r = await convoy(socket, ['backup', 'inspect', v.url]);
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse(r.stdout) as Record<string, string>;
    expect(shown).toMatchObject({
      BackupName: v.backup,
      BackupURL: `vfs://${rs.storeDir}?backup=${v.backup}&volume=vol1`,
      DriverName: 'vfs',
      SnapshotName: v.snapshot,
      VolumeName: 'vol1',
      VolumeSize: '0',
    });
    for (const k of ['CreatedTime', 'SnapshotCreatedAt', 'VolumeCreatedAt']) expect(shown[k]).toMatch(RUBY_DATE);
    const json = await convoy(socket, ['backup', 'inspect', v.url.replace('\\u0026', '&'), '--json']);
    expect(JSON.parse(json.last)).toMatchObject({ id: v.backup, format: 'rancher-convoy-v0.5.2', convoy: { BackupName: v.backup } });
  });

  it('inspect of a Convoy backup the store does not hold is not found, with a hint', async () => {
    const v = rs.volumes[0]!;
    await expect(client.inspectBackup(v.url.replace(v.backup, 'backup-0000000000000000'))).rejects.toMatchObject({
      code: 'CONVOY_BACKUP_NOT_FOUND',
      hint: expect.stringContaining('convoy backup list'),
    });
  });

  it('a store holding ours and Convoy’s lists both', async () => {
    await client.createVolume({ name: 'mine' });
    await client.createSnapshot({ volume: 'mine', name: 'mine-snap' });
    const created = await client.createBackup({ snapshot: 'mine-snap', dest: `vfs://${rs.storeDir}` });
    const listed = await client.listBackups(`vfs://${rs.storeDir}`);
    expect(listed.find((b) => b.id === created.id)).toMatchObject({ volume: 'mine', snapshot: 'mine-snap' });
    expect(listed.find((b) => b.id === created.id)?.format).toBeUndefined();
    expect(listed.filter((b) => b.format === 'rancher-convoy-v0.5.2')).toHaveLength(4);
    const inspected = await client.inspectBackup(created.url);
    expect(inspected.manifest).toMatchObject({ id: created.id });
  });
});
