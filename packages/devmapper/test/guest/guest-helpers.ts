import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SnapshotSource } from '@convoy/blockstore';

export const MiB = 1024 * 1024;
export const BLOCK = 2 * MiB;

/** Guest tests run only inside the dm guest (tools/dmvm-test.sh): never against a host's device-mapper. */
export function assertInGuest(): void {
  if (process.env.CONVOY_DM_GUEST !== '1') throw new Error('guest tests run inside the dm guest: bash tools/dmvm-test.sh');
  if (!existsSync('/dev/mapper/control')) throw new Error('no /dev/mapper/control: the guest kernel has no device-mapper');
}

/** A scratch directory on the guest's tmpfs (loop files, stores, mount points). */
export async function scratch(name: string): Promise<string> {
  const dir = path.join('/tmp', `convoy-guest-${name}`);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Whatever a test left behind: every dm device and loop device of the guest. Suspended devices
 * are resumed first — unmounting a frozen filesystem or removing a suspended device would hang.
 */
export function resetDeviceMapper(): void {
  for (const line of execFileSync('dmsetup', ['info', '-c', '--noheadings', '-o', 'name,suspended', '--separator', ' '])
    .toString()
    .split('\n')) {
    const [name, state] = line.trim().split(' ');
    if (name !== undefined && name !== '' && state === 'Suspended') execFileSync('dmsetup', ['resume', name]);
  }
  for (const mp of execFileSync('sh', ['-c', "grep -o ' /tmp/convoy-guest-[^ ]*' /proc/self/mounts || true"]).toString().split('\n')) {
    if (mp.trim() !== '') execFileSync('umount', ['-l', mp.trim()]);
  }
  execFileSync('dmsetup', ['remove_all', '--force']);
  execFileSync('losetup', ['-D']);
}

/** sha256 of each 2 MiB block of a source, and of all of it. */
export async function blockHashes(src: SnapshotSource): Promise<{ blocks: string[]; all: string }> {
  const all = createHash('sha256');
  const blocks: string[] = [];
  for (let o = 0; o < src.size; o += BLOCK) {
    const b = await src.read(o, Math.min(BLOCK, src.size - o));
    all.update(b);
    blocks.push(createHash('sha256').update(b).digest('hex'));
  }
  return { blocks, all: all.digest('hex') };
}

export async function sha256Of(device: string, length: number): Promise<string> {
  const fh = await fs.open(device, 'r');
  const h = createHash('sha256');
  try {
    const buf = Buffer.alloc(BLOCK);
    for (let o = 0; o < length; o += BLOCK) {
      const n = Math.min(BLOCK, length - o);
      const { bytesRead } = await fh.read(buf, 0, n, o);
      if (bytesRead !== n) throw new Error(`short read at ${o} of ${device}`);
      h.update(buf.subarray(0, n));
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

export async function writeAt(device: string, offset: number, data: Buffer): Promise<void> {
  const fh = await fs.open(device, 'r+');
  try {
    await fh.write(data, 0, data.length, offset);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const REPO = path.resolve(import.meta.dirname, '../../../..');

export interface BuiltDaemon {
  /** Everything the daemon logged so far (JSON lines on stderr). */
  readonly log: () => string;
  /** Runs the built `convoy` CLI against the daemon's socket; returns its stdout (throws on a nonzero exit). */
  convoy(...args: string[]): string;
  /** The last stdout line of `convoy ARGS --json`, parsed. */
  convoyJson<T>(...args: string[]): T;
  stop(): Promise<void>;
}

/**
 * The built convoy-daemon (apps/daemon/dist, built before the dm-guest stage) started with `args`
 * plus its own control socket under `dir`; resolves once it logged that it is ready.
 */
export async function startBuiltDaemon(dir: string, args: string[]): Promise<BuiltDaemon> {
  const socket = path.join(dir, `daemon-${process.pid}.sock`);
  const child = spawn(
    process.execPath,
    [path.join(REPO, 'apps/daemon/bin/convoy-daemon.cjs'), ...args, '--socket', socket, '--plugin-socket', 'none'],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`convoy-daemon not ready:\n${log.slice(-3000)}`)), 300_000);
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      log += c;
      if (log.includes('"msg":"convoy-daemon ready"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`convoy-daemon exited ${code}:\n${log.slice(-3000)}`)));
  });
  const convoy = (...a: string[]): string =>
    execFileSync(process.execPath, [path.join(REPO, 'apps/cli/bin/convoy.cjs'), '--socket', socket, ...a], { encoding: 'utf8' });
  return {
    log: () => log,
    convoy,
    convoyJson: <T>(...a: string[]): T =>
      JSON.parse(
        convoy(...a, '--json')
          .trim()
          .split('\n')
          .pop() ?? 'null',
      ) as T,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
