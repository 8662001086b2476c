// Walks a directory tree into file index entries, in tree order (depth first, siblings sorted by
// their UTF-8 bytes), with lstat (never following symlinks), readlink, hard links detected by
// device + inode, and extended attributes.
import { ConvoyError, errorCode } from '@convoy/errors';
import { lstat, readdir, readlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { FileEntry, OtherKind, RootMeta } from './entry.js';
import type { FileStat } from './files-cache.js';
import { readXattrs } from './xattr.js';

export interface WalkOptions {
  /** Read extended attributes (default true). */
  xattrs?: boolean;
  signal?: AbortSignal;
}

/** One walked entry: the index entry (a file's without chunks yet), where it is, and its stat. */
export interface WalkEntry {
  entry: FileEntry;
  absPath: string;
  stat: FileStat;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeName(raw: Buffer, where: string): string {
  try {
    return utf8.decode(raw);
  } catch {
    const shown = [...raw]
      .map((b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`))
      .join('');
    throw new ConvoyError('CONVOY_SOURCE_UNREADABLE', `the name ${where}${shown} is not UTF-8`, {
      hint: 'rename the file to a UTF-8 name (convmv does it); names in other encodings cannot be backed up yet',
      details: { where, bytes: raw.toString('hex') },
    });
  }
}

function unreadable(path: string, cause: unknown): ConvoyError {
  return new ConvoyError('CONVOY_SOURCE_UNREADABLE', `cannot read ${path}: ${errorCode(cause) ?? String(cause)}`, {
    hint: "the backup needs to read every file of the tree: check permissions (run as root for other users' files)",
    cause,
  });
}

function baseMeta(st: BigIntStats): { mode: number; uid: number; gid: number; mtimeNs: bigint } {
  return { mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), mtimeNs: st.mtimeNs };
}

/** Metadata of the walked directory itself. */
export async function statRoot(dir: string, options: WalkOptions = {}): Promise<RootMeta> {
  const st = await lstat(dir, { bigint: true }).catch((e: unknown) => Promise.reject(unreadable(dir, e)));
  const r: RootMeta = baseMeta(st);
  if (options.xattrs ?? true) {
    const x = readXattrs(dir);
    if (Object.keys(x).length > 0) r.xattrs = x;
  }
  return r;
}

function otherKind(st: BigIntStats): OtherKind {
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'socket';
}

interface Frame {
  abs: string;
  rel: string;
  names: Buffer[];
  next: number;
}

/**
 * Yields every entry under `dir` (not `dir` itself: see statRoot) in tree order. The first path
 * of a multiply linked file is a `file` with `linked`; later paths to the same inode are
 * `hardlink` entries naming it (regular files only: other types are stored once per path). An
 * entry that vanishes during the walk is skipped; any other read error stops the walk
 * (CONVOY_SOURCE_UNREADABLE), and a name that is not UTF-8 is CONVOY_SOURCE_UNREADABLE. Memory: the
 * sorted names of the directories on the current path, and one path per multiply linked inode.
 */
export async function* walkTree(dir: string, options: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const links = new Map<string, string>();
  const list = async (abs: string): Promise<Buffer[]> => {
    try {
      return (await readdir(abs, { encoding: 'buffer' })).sort(Buffer.compare);
    } catch (e) {
      throw unreadable(abs, e);
    }
  };
  const stack: Frame[] = [{ abs: dir, rel: '', names: await list(dir), next: 0 }];
  while (stack.length > 0) {
    options.signal?.throwIfAborted();
    const top = stack.at(-1)!;
    const raw = top.names[top.next++];
    if (raw === undefined) {
      stack.pop();
      continue;
    }
    const name = decodeName(raw, top.rel === '' ? '' : `${top.rel}/`);
    const rel = top.rel === '' ? name : `${top.rel}/${name}`;
    const abs = join(top.abs, name);
    let st: BigIntStats;
    try {
      st = await lstat(abs, { bigint: true });
    } catch (e) {
      if (errorCode(e) === 'ENOENT') continue;
      throw unreadable(abs, e);
    }
    const entry: FileEntry = { path: rel, type: 'other', ...baseMeta(st), ctimeNs: st.ctimeNs, ino: st.ino, size: 0 };
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1n ? links.get(key) : undefined;
      if (first !== undefined) Object.assign(entry, { type: 'hardlink', link: first });
      else {
        Object.assign(entry, { type: 'file', size: Number(st.size) });
        if (st.nlink > 1n) {
          links.set(key, rel);
          entry.linked = true;
        }
      }
    } else if (st.isDirectory()) entry.type = 'dir';
    else if (st.isSymbolicLink()) {
      entry.type = 'symlink';
      try {
        entry.target = decodeName(await readlink(abs, { encoding: 'buffer' }), `the target of ${rel}: `);
      } catch (e) {
        if (errorCode(e) === 'ENOENT') continue;
        throw e instanceof ConvoyError ? e : unreadable(abs, e);
      }
    } else {
      entry.kind = otherKind(st);
      if (entry.kind === 'char' || entry.kind === 'block') entry.rdev = Number(st.rdev);
    }
    if (options.xattrs ?? true) {
      const x = readXattrs(abs);
      if (Object.keys(x).length > 0) entry.xattrs = x;
    }
    yield { entry, absPath: abs, stat: { path: rel, size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino } };
    if (entry.type === 'dir') stack.push({ abs, rel, names: await list(abs), next: 0 });
  }
}
