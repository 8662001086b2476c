// The original Rancher Convoy v0.5.2 binary with its devicemapper driver, in the dm guest: a daemon
// on a thin pool over two loop devices (Convoy takes block devices: dm.datadev, dm.metadatadev), and
// its CLI. Used to make real deltablock backup stores and real Convoy devicemapper roots.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { installConvoyGo } from '../../../../tools/vitest/rancher-convoy.js';

const run = promisify(execFile);

/**
 * Stand-in for `convoy-pdata_tools`, the thin-provisioning-tools build Convoy shipped beside its
 * binary and calls for `thin_delta -V` (a version check at start) and `thin_delta --snap1 A
 * --snap2 B <metadata dev>` (the blocks a backup reads). Debian's thin_delta (0.9.0) opens a live
 * pool's metadata device exclusively (EBUSY: the pool holds it) unless it reads a metadata
 * snapshot, so this one reserves a metadata snapshot around the call and reads that (-m).
 */
const PDATA_TOOLS = `#!/bin/sh
[ "$1" = thin_delta ] || exec pdata_tools "$@"
shift
case " $* " in *" -V "*) exec pdata_tools thin_delta -V ;; esac
dmsetup message "$CONVOY_GO_POOL" 0 reserve_metadata_snap || exit 1
pdata_tools thin_delta -m "$@"; rc=$?
dmsetup message "$CONVOY_GO_POOL" 0 release_metadata_snap
exit $rc
`;

export interface ConvoyGo {
  /** Convoy's --root; its devicemapper driver keeps its records in `<root>/devicemapper`. */
  root: string;
  pool: string;
  dataDevice: string;
  metadataDevice: string;
  /** One CLI call through the daemon's socket; its stdout, trimmed. */
  cli(...args: string[]): Promise<string>;
  /** Convoy's volume mounted by Convoy at `<dir>/mnt-<volume>` while `work` runs; then unmounted. */
  withMount(volume: string, dir: string, work: (mp: string) => Promise<unknown>): Promise<void>;
  /** The daemon's log so far. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Loop devices over sparse files in `dir`, and Convoy's daemon on a new pool `pool` made on them. */
export async function startConvoyGo(dir: string, pool: string): Promise<ConvoyGo> {
  const bin = await installConvoyGo(dir);
  const tools = path.join(dir, 'tools');
  await fs.mkdir(tools, { recursive: true });
  await fs.writeFile(path.join(tools, 'convoy-pdata_tools'), PDATA_TOOLS, { mode: 0o755 });
  const loop = async (name: string, size: number): Promise<string> => {
    const file = path.join(dir, name);
    await fs.writeFile(file, '');
    await fs.truncate(file, size);
    return (await run('losetup', ['-f', '--show', file])).stdout.trim();
  };
  const dataDevice = await loop('data.img', 1024 * 1024 * 1024);
  const metadataDevice = await loop('metadata.img', 64 * 1024 * 1024);
  const root = path.join(dir, 'convoy-root');
  const sock = path.join(dir, 'convoy-go.sock');
  const logFile = path.join(dir, 'convoy-go.log');
  const env = { ...process.env, PATH: `${tools}:${process.env.PATH ?? ''}`, CONVOY_GO_POOL: pool };
  const out = await fs.open(logFile, 'w');
  const daemon: ChildProcess = spawn(
    bin,
    [
      '--socket',
      sock,
      'daemon',
      '--drivers',
      'devicemapper',
      '--driver-opts',
      `dm.datadev=${dataDevice}`,
      '--driver-opts',
      `dm.metadatadev=${metadataDevice}`,
      '--driver-opts',
      `dm.thinpoolname=${pool}`,
      '--root',
      root,
    ],
    { stdio: ['ignore', out.fd, out.fd], env },
  );
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  const log = (): Promise<string> => fs.readFile(logFile, 'utf8');
  await until('the Convoy daemon socket', () => existsSync(sock) || daemon.exitCode !== null);
  if (daemon.exitCode !== null) throw new Error(`convoy-go daemon exited: ${await log()}`);
  const cli = async (...args: string[]): Promise<string> => {
    try {
      return (await run(bin, ['--socket', sock, ...args], { env })).stdout.trim();
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `convoy-go ${args.join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}\n--- daemon log ---\n${(await log()).slice(-4000)}`,
      );
    }
  };
  return {
    root,
    pool,
    dataDevice,
    metadataDevice,
    cli,
    withMount: async (volume, dir, work) => {
      const mp = path.join(dir, `mnt-${volume}`);
      await fs.mkdir(mp, { recursive: true });
      await cli('mount', volume, '--mountpoint', mp);
      try {
        await work(mp);
      } finally {
        await cli('umount', volume);
      }
    },
    log,
    stop: async () => {
      daemon.kill('SIGTERM');
      await exited;
      await out.close();
    },
  };
}

/** The URL a `backup create` printed (its last line, with Convoy's \u0026) and the backup's name. */
export function backupOf(printed: string): { url: string; name: string } {
  const url = printed.split('\n').pop() ?? '';
  const name = /backup=(backup-[0-9a-f]{16})/.exec(url)?.[1];
  if (name === undefined) throw new Error(`convoy-go printed no backup URL: ${printed}`);
  return { url, name };
}

/** Syncs a block device's page cache to it (what was written is what a snapshot holds). */
export function syncDevice(dev: string): void {
  execFileSync('blockdev', ['--flushbufs', dev]);
}
