// A Rancher Convoy v0.5.2 devicemapper installation, made by the original binary in the dm guest
// (volumes with files, a snapshot, Convoy's records under its root, its devices left active), is
// taken over in place by this driver started on Convoy's driver root: refused while one of its
// volumes is mounted, then adopted with Convoy's device ids; a volume mounts with its files
// intact, and a new volume made from Convoy's snapshot holds the snapshot's files. Then the built
// convoy-daemon, started with Convoy's --root, finds Convoy's pool there and adopts it itself:
// `convoy list` shows Convoy's volumes and `convoy mount` gives their files.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevmapperDriver } from '../../src/index.js';
import { startConvoyGo, type ConvoyGo } from './convoy-go-dm.js';
import { MiB, assertInGuest, resetDeviceMapper, scratch, startBuiltDaemon } from './guest-helpers.js';

let dir: string;
let cg: ConvoyGo;
let driverRoot: string;
const data = randomBytes(5 * MiB);
const logs: string[] = [];

beforeAll(async () => {
  assertInGuest();
  resetDeviceMapper();
  dir = await scratch('rancher-adopt');
  cg = await startConvoyGo(dir, 'guest-adopt');
  driverRoot = path.join(cg.root, 'devicemapper');
});

afterAll(() => {
  resetDeviceMapper();
});

/** Convoy's record of a volume: its thin device id and its snapshots'. */
async function convoyRecord(volume: string): Promise<{ DevID: number; Size: number; Snapshots: Record<string, { DevID: number }> }> {
  return JSON.parse(await fs.readFile(path.join(driverRoot, `devicemapper_volume_${volume}.json`), 'utf8')) as {
    DevID: number;
    Size: number;
    Snapshots: Record<string, { DevID: number }>;
  };
}

const start = (): Promise<DevmapperDriver> => DevmapperDriver.start({ root: driverRoot, log: (_level, m) => logs.push(m) });

describe('a Rancher Convoy v0.5.2 devicemapper installation', () => {
  it('is made by the original binary: volumes with files and a snapshot, then the daemon stops', async () => {
    await cg.cli('create', 'vol1', '--size', '64M');
    await cg.withMount('vol1', dir, async (mp) => {
      await fs.writeFile(path.join(mp, 'hello.txt'), 'at the snapshot\n');
      await fs.writeFile(path.join(mp, 'data.bin'), data);
    });
    await cg.cli('snapshot', 'create', 'vol1', '--name', 'snap1');
    await cg.withMount('vol1', dir, async (mp) => fs.writeFile(path.join(mp, 'hello.txt'), 'after the snapshot\n'));
    await cg.cli('create', 'ab', '--size', '32M');
    await cg.withMount('ab', dir, async (mp) => fs.writeFile(path.join(mp, 'ab.txt'), 'ab\n'));
    await cg.stop();
    expect((await fs.readdir(driverRoot)).sort()).toEqual(
      expect.arrayContaining(['devicemapper.cfg', 'devicemapper_volume_ab.json', 'devicemapper_volume_vol1.json']),
    );
    const active = execFileSync('dmsetup', ['ls']).toString();
    expect(active).toMatch(/^vol1\s/m); // Convoy leaves its volumes active under their names
  });

  it('is refused, with nothing changed, while one of its volumes is mounted', async () => {
    const mp = path.join(dir, 'mnt-by-hand');
    await fs.mkdir(mp, { recursive: true });
    execFileSync('mount', ['/dev/mapper/ab', mp]);
    try {
      const err = await start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'CONVOY_ADOPT_REFUSED', details: { device: 'ab' } });
      await expect(fs.stat(path.join(driverRoot, 'state.json'))).rejects.toThrow();
    } finally {
      execFileSync('umount', [mp]);
    }
  });

  it('is adopted in place: the volumes and snapshot with their device ids, a volume mounts with its files', async () => {
    const d = await start();
    const vol1 = await convoyRecord('vol1');
    const ab = await convoyRecord('ab');
    expect((await d.list()).map((v) => [v.name, v.deviceId, v.size, v.fs])).toEqual([
      ['ab', ab.DevID, 32 * MiB, 'ext4'],
      ['vol1', vol1.DevID, 64 * MiB, 'ext4'],
    ]);
    expect((await d.snapshotList('vol1')).map((s) => [s.name, s.deviceId])).toEqual([['snap1', vol1.Snapshots.snap1?.DevID]]);
    expect(logs.join('\n')).toMatch(/adopted Rancher Convoy v0\.5\.2's devicemapper pool in place/);
    expect((await d.status()).adoptedFrom).toMatchObject({ volumes: ['ab', 'vol1'], snapshots: 1 });
    expect((await d.poolDeviceIds()).sort((a, b) => a - b)).toEqual(
      [vol1.DevID, vol1.Snapshots.snap1?.DevID, ab.DevID].sort((a, b) => a! - b!),
    );
    const mp = await d.mount('vol1');
    expect(await fs.readFile(path.join(mp, 'hello.txt'), 'utf8')).toBe('after the snapshot\n');
    expect((await fs.readFile(path.join(mp, 'data.bin'))).equals(data)).toBe(true);
    await d.unmount('vol1');
    expect(await fs.readFile(path.join(await d.mount('ab'), 'ab.txt'), 'utf8')).toBe('ab\n');
    await d.unmount('ab');
    await d.stop();
  });

  it("gives a new volume from Convoy's snapshot (convoy create NEW --snapshot) with the snapshot's files", async () => {
    const d = await start(); // its own state.json now
    const v = await d.create({ name: 'from-snap', fromSnapshot: { volume: 'vol1', snapshot: 'snap1' } });
    expect(v).toMatchObject({ size: 64 * MiB, fs: 'ext4' });
    const mp = await d.mount('from-snap');
    expect(await fs.readFile(path.join(mp, 'hello.txt'), 'utf8')).toBe('at the snapshot\n');
    expect((await fs.readFile(path.join(mp, 'data.bin'))).equals(data)).toBe(true);
    await d.unmount('from-snap');
    await d.stop();
  });

  it("is adopted by convoy-daemon started with Convoy's --root: `convoy list` and `convoy mount` show its volumes and files", async () => {
    // Back to Convoy's own state: the clone made above goes, and so does the state the driver wrote.
    const d = await start();
    await d.remove('from-snap');
    await d.stop();
    await fs.rm(path.join(driverRoot, 'state.json'));
    const daemon = await startBuiltDaemon(dir, [
      ...['--root', cg.root, '--drivers', 'devicemapper'],
      ...['--maintenance-interval', 'off', '--full-maintenance-interval', 'off'],
    ]);
    try {
      expect(daemon.log()).toContain(path.join(cg.root, 'devicemapper')); // the ready line names the driver's directory: Convoy's
      expect(
        daemon
          .convoyJson<{ name: string }[]>('list')
          .map((v) => v.name)
          .sort(),
      ).toEqual(['ab', 'vol1']);
      expect(daemon.convoyJson<{ name: string }[]>('snapshot', 'list', 'vol1').map((x) => x.name)).toEqual(['snap1']);
      const mp = daemon.convoy('mount', 'vol1').trim().split('\n').pop()!;
      expect(await fs.readFile(path.join(mp, 'hello.txt'), 'utf8')).toBe('after the snapshot\n');
      expect((await fs.readFile(path.join(mp, 'data.bin'))).equals(data)).toBe(true);
      daemon.convoy('umount', 'vol1');
      const saved = JSON.parse(await fs.readFile(path.join(cg.root, 'daemon-config.json'), 'utf8')) as {
        config: { driverOpts: Record<string, string> };
      };
      expect(saved.config.driverOpts['dm.root']).toBe(path.join(cg.root, 'devicemapper')); // pinned for the next starts
    } finally {
      await daemon.stop();
    }
  });
});
