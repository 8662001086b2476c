// A small tree with every kind of entry, and a description of a tree to compare two of them
// exactly: types, modes, owners, mtimes (ns), symlink targets, hard links, content hashes.
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { walkTree, type FileEntry } from '@convoy/fileindex';
import { setMtimeNs } from '../src/native.js';

export const MiB = 1024 * 1024;

/** A deterministic pseudo-random buffer (xorshift), so content dedups across runs the same way. */
export function noise(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = (seed * 2 + 1) | 0; // odd and distinct per seed
  for (let i = 0; i + 4 <= bytes; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeInt32LE(x | 0, i);
  }
  return out;
}

/** Past mtimes, so the files cache trusts them (they are not "racily clean"). */
export const OLD_NS = 1_700_000_000_123_456_789n;

export async function makeTree(root: string): Promise<void> {
  await fs.mkdir(root, { recursive: true });
  const w = async (p: string, data: Buffer | string, mode = 0o644): Promise<void> => {
    await fs.mkdir(path.dirname(path.join(root, p)), { recursive: true });
    await fs.writeFile(path.join(root, p), data, { mode });
    await fs.chmod(path.join(root, p), mode);
  };
  for (let i = 0; i < 40; i++) await w(`small/f${String(i).padStart(3, '0')}.txt`, `file ${i}\n`.repeat(i + 1));
  await w('big/random.bin', noise(3 * MiB + 12345, 7));
  await w('big/copy.bin', noise(3 * MiB + 12345, 7)); // same content: deduplicated
  await w('empty', '');
  await w('modes/exec', '#!/bin/sh\n', 0o755);
  await w('modes/private', 'secret\n', 0o600);
  await w('modes/setgid', 'x', 0o2750);
  await w('a b/ünïcödé name.txt', 'unicode\n');
  await fs.mkdir(path.join(root, 'empty-dir'));
  await fs.mkdir(path.join(root, 'ro-dir'), { mode: 0o555 });
  await fs.symlink('../small/f001.txt', path.join(root, 'modes/link-rel'));
  await fs.symlink('/etc/passwd', path.join(root, 'link-abs'));
  await fs.symlink('does/not/exist', path.join(root, 'link-dangling'));
  await fs.link(path.join(root, 'small/f002.txt'), path.join(root, 'modes/hard-1'));
  await fs.link(path.join(root, 'small/f002.txt'), path.join(root, 'zz-hard-2'));
  // sparse: a hole of 4 MiB between two data runs, and a trailing hole
  const fh = await fs.open(path.join(root, 'sparse.img'), 'w');
  await fh.write(noise(100_000, 3), 0, 100_000, 0);
  await fh.write(noise(100_000, 4), 0, 100_000, 6 * MiB);
  await fh.truncate(14 * MiB);
  await fh.close();
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  await fs.chmod(path.join(root, 'ro-dir'), 0o555);
  await ageTree(root);
}

/** Sets every entry's mtime to a past time with nanoseconds (directories last). */
export async function ageTree(root: string, ns = OLD_NS): Promise<void> {
  const all: string[] = [];
  for await (const { absPath } of walkTree(root, { xattrs: false })) all.push(absPath);
  for (const p of all.reverse()) setMtimeNs(p, ns);
  setMtimeNs(root, ns);
}

export interface Described {
  path: string;
  type: FileEntry['type'];
  mode: number;
  uid: number;
  gid: number;
  mtime: string;
  size: number;
  target?: string;
  link?: string;
  sha?: string;
}

/** Every entry of a tree, with what a restore must reproduce. */
export async function describeTree(root: string): Promise<Described[]> {
  const out: Described[] = [];
  for await (const { entry: e, absPath } of walkTree(root, { xattrs: false })) {
    const d: Described = { path: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtimeNs.toString(), size: e.size };
    if (e.target !== undefined) d.target = e.target;
    if (e.link !== undefined) d.link = e.link;
    if (e.type === 'file')
      d.sha = createHash('sha256')
        .update(await fs.readFile(absPath))
        .digest('hex');
    out.push(d);
  }
  const st = await fs.lstat(root, { bigint: true });
  out.push({
    path: '.',
    type: 'dir',
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: st.mtimeNs.toString(),
    size: 0,
  });
  return out;
}

/** Blocks a file occupies on disk (512-byte units), to see holes. */
export async function allocatedBytes(file: string): Promise<number> {
  return (await fs.stat(file)).blocks * 512;
}

export const randomName = (): string => randomBytes(4).toString('hex');
