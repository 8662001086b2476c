// Real Rancher Convoy v0.5.2 artifacts for tests: the original binary (shared/tools/
// rancher-convoy-0.5.2/convoy.xz, beside the checkout) runs its daemon with the vfs driver, makes
// volumes with known files, snapshots them and backs them up to a vfs store, and stops. Nothing
// here is imitated: the store is what Convoy wrote. Needs xz and libdevmapper1.02.1 (even for vfs):
// installed with apt-get when missing and running as root; otherwise it fails (never skips).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './project-defaults.js';

const run = promisify(execFile);

/** The compressed original binary; CONVOY_GO_XZ overrides where it is. */
export const CONVOY_XZ = process.env.CONVOY_GO_XZ ?? path.resolve(REPO_ROOT, '../shared/tools/rancher-convoy-0.5.2/convoy.xz');

export interface RancherVolume {
  name: string;
  /** The volume's directory under vfs.path (what was backed up). */
  dir: string;
  snapshot: string;
  /** The backup URL exactly as Convoy printed it (with `\u0026`). */
  url: string;
  /** Convoy's backup name, backup-<16 hex>. */
  backup: string;
  /** Every backup of the volume, oldest first (the first is the one above). */
  backups: RancherBackup[];
}

/** One backup Convoy made, and the volume's tree as it backed it up. */
export interface RancherBackup {
  snapshot: string;
  url: string;
  backup: string;
  tree: TreeEntry[];
}

export interface RancherStoreOptions {
  /** Backups per volume (default 1); between two, a file changes, one is added and one removed. */
  backups?: number;
}

export interface RancherStore {
  /** The store directory (vfs:///<storeDir>). */
  storeDir: string;
  volumes: RancherVolume[];
}

/** Decompresses the binary into `dir` and makes sure it can run (its shared libraries). */
export async function installConvoyGo(dir: string): Promise<string> {
  const bin = path.join(dir, 'convoy-go');
  if (!existsSync(CONVOY_XZ)) throw new Error(`Rancher Convoy v0.5.2 binary not found at ${CONVOY_XZ} (set CONVOY_GO_XZ)`);
  await run('sh', ['-c', 'xz -dc "$1" > "$2" && chmod 0755 "$2"', 'sh', CONVOY_XZ, bin]);
  const missing = async (): Promise<boolean> => (await run('ldd', [bin])).stdout.includes('not found');
  if (await missing()) {
    if (process.geteuid?.() !== 0) throw new Error('convoy-go needs libdevmapper1.02.1: apt-get install libdevmapper1.02.1 (as root)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['-o', 'DPkg::Lock::Timeout=900', 'update', '-qq'], { env });
    await run('apt-get', ['-o', 'DPkg::Lock::Timeout=900', 'install', '-y', '-qq', '--no-install-recommends', 'libdevmapper1.02.1'], {
      env,
    });
    if (await missing())
      throw new Error(`convoy-go still misses libraries after installing libdevmapper1.02.1: ${(await run('ldd', [bin])).stdout}`);
  }
  return bin;
}

/** Waits for `check` to hold, polling, until a deadline. */
async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The files every test volume holds: modes, a subdirectory, a symlink, binary data, an empty file. */
async function fillVolume(dir: string, seed: string): Promise<void> {
  await fs.writeFile(path.join(dir, 'hello.txt'), `hello from Rancher Convoy (${seed})\n`);
  await fs.chmod(path.join(dir, 'hello.txt'), 0o640);
  await fs.writeFile(path.join(dir, 'run.sh'), '#!/bin/sh\necho run\n');
  await fs.chmod(path.join(dir, 'run.sh'), 0o755);
  await fs.mkdir(path.join(dir, 'sub', 'deeper'), { recursive: true });
  await fs.chmod(path.join(dir, 'sub'), 0o750);
  await fs.writeFile(path.join(dir, 'sub', 'deeper', 'data.bin'), randomBytes(300 * 1024 + 17));
  await fs.writeFile(path.join(dir, 'sub', 'empty'), '');
  await fs.symlink('../hello.txt', path.join(dir, 'sub', 'link-to-hello'));
  await fs.symlink('/nonexistent/target', path.join(dir, 'dangling'));
}

/** Waits until the wall clock enters its next second. */
async function nextSecond(): Promise<void> {
  const s = Math.floor(Date.now() / 1000);
  await until('the next second', () => Math.floor(Date.now() / 1000) > s, 5_000);
}

/** Between two backups: a file grows, one is added, one goes, most stay as they were (for dedup). */
async function changeVolume(dir: string, round: number): Promise<void> {
  await fs.appendFile(path.join(dir, 'hello.txt'), `round ${round}\n`);
  await fs.writeFile(path.join(dir, `round-${round}.bin`), randomBytes(40 * 1024 + round));
  await fs.rm(path.join(dir, round === 1 ? 'sub/empty' : `round-${round - 1}.bin`), { force: true });
}

/**
 * Runs the original daemon on `work`, makes each named volume with known files, snapshots it,
 * backs it up to `<work>/store` (`options.backups` times, changing files between) and stops the
 * daemon. Its state stays: `<work>/vols` is Convoy's vfs.path, `<work>/root` its root.
 */
export async function makeRancherStore(
  work: string,
  names: readonly string[] = ['vol1', 'ab'],
  options: RancherStoreOptions = {},
): Promise<RancherStore> {
  const bin = await installConvoyGo(work);
  const sock = path.join(work, 'c.sock');
  const vfsPath = path.join(work, 'vols');
  const storeDir = path.join(work, 'store');
  await fs.mkdir(storeDir); // Convoy's vfs store must exist
  const log = await fs.open(path.join(work, 'daemon.log'), 'w');
  const daemon: ChildProcess = spawn(
    bin,
    ['--socket', sock, 'daemon', '--drivers', 'vfs', '--driver-opts', `vfs.path=${vfsPath}`, '--root', path.join(work, 'root')],
    { stdio: ['ignore', log.fd, log.fd] },
  );
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  const cli = async (...args: string[]): Promise<string> => (await run(bin, ['--socket', sock, ...args])).stdout.trim();
  try {
    await until('the Convoy daemon socket', () => existsSync(sock) || daemon.exitCode !== null);
    if (daemon.exitCode !== null) throw new Error(`convoy-go daemon exited: ${await fs.readFile(path.join(work, 'daemon.log'), 'utf8')}`);
    const volumes: RancherVolume[] = [];
    for (const name of names) {
      await cli('create', name);
      const dir = path.join(vfsPath, name);
      await fillVolume(dir, name);
      const backups: RancherBackup[] = [];
      for (let i = 0; i < (options.backups ?? 1); i++) {
        // Convoy's times have one-second resolution: each backup of a volume in a second of its own
        // keeps "oldest first" unambiguous.
        if (i > 0) await nextSecond();
        if (i > 0) await changeVolume(dir, i);
        const snapshot = i === 0 ? `snap-${name}` : `snap-${name}-${i}`;
        await cli('snapshot', 'create', name, '--name', snapshot);
        const url = (await cli('backup', 'create', snapshot, '--dest', `vfs://${storeDir}`)).split('\n').pop()!;
        const backup = /backup=(backup-[0-9a-f]+)/.exec(url)?.[1];
        if (backup === undefined) throw new Error(`convoy-go printed no backup URL: ${url}`);
        backups.push({ snapshot, url, backup, tree: await readTree(dir) });
      }
      const first = backups[0]!;
      volumes.push({ name, dir, snapshot: first.snapshot, url: first.url, backup: first.backup, backups });
    }
    return { storeDir, volumes };
  } finally {
    daemon.kill('SIGTERM');
    await exited;
    await log.close();
  }
}

export interface TreeEntry {
  path: string;
  type: 'dir' | 'file' | 'symlink' | 'other';
  mode: number;
  /** A file's bytes (base64) or a symlink's target. */
  content?: string;
}

/** Every entry under `root` (the root itself as ''), sorted: type, permission bits, content or link target. */
export async function readTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === '' ? root : path.join(root, rel);
    const st = await fs.lstat(abs);
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) {
      out.push({ path: rel, type: 'dir', mode });
      for (const name of (await fs.readdir(abs)).sort()) await walk(rel === '' ? name : `${rel}/${name}`);
    } else if (st.isFile()) out.push({ path: rel, type: 'file', mode, content: (await fs.readFile(abs)).toString('base64') });
    else if (st.isSymbolicLink()) out.push({ path: rel, type: 'symlink', mode: 0, content: await fs.readlink(abs) });
    else out.push({ path: rel, type: 'other', mode });
  };
  await walk('');
  return out;
}
