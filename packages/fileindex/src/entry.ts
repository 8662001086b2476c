// One entry of a file index, in memory and on the wire (one JSON object per line).
import { z } from 'zod';

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
export type OtherKind = 'fifo' | 'char' | 'block' | 'socket';

/** A chunk of a file's content: its id (hex) and its length. */
export interface ChunkRef {
  id: string;
  size: number;
}

export interface FileEntry {
  /** Relative to the backed-up directory (see paths.ts). */
  path: string;
  type: EntryType;
  /** Permission bits with setuid, setgid and sticky (st_mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  /** For the files cache of the next backup; not restored. */
  ctimeNs?: bigint;
  ino?: bigint;
  /** Content bytes of a file; 0 for every other type. */
  size: number;
  /** A file's content, in order; their sizes add up to `size`. */
  chunks?: ChunkRef[];
  /** A file that other entries are hard links to (st_nlink > 1 when walked). */
  linked?: boolean;
  /** A symlink's target, as readlink gave it (never followed by a restore). */
  target?: string;
  /** A hard link: the path of the earlier `linked` file entry it shares an inode with. */
  link?: string;
  /** What an `other` entry is, and its device number (char, block). */
  kind?: OtherKind;
  rdev?: number;
  /** Extended attributes (name → raw value). */
  xattrs?: Record<string, Buffer>;
}

/** Metadata of the backed-up directory itself (it has no path in the index). */
export interface RootMeta {
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  xattrs?: Record<string, Buffer>;
}

/** Chunk refs per line: a file with more continues on `{"more": [...]}` lines. */
export const CHUNKS_PER_LINE = 4096;

const u32 = z.number().int().min(0).max(0xffffffff);
const ns = z.string().regex(/^-?(0|[1-9][0-9]{0,19})$/, 'a decimal integer of nanoseconds');
const inode = z.string().regex(/^(0|[1-9][0-9]{0,19})$/, 'a decimal integer');
export const chunkWire = z.tuple([
  z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
  z
    .number()
    .int()
    .min(1)
    .max(2 ** 32),
]);
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const xattrsWire = z.record(
  z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^\0]+$/),
  base64,
);

export const entryWire = z
  .object({
    path: z.string(),
    type: z.enum(['file', 'dir', 'symlink', 'hardlink', 'other']),
    mode: z.number().int().min(0).max(0o7777),
    uid: u32,
    gid: u32,
    mtime: ns,
    ctime: ns.optional(),
    ino: inode.optional(),
    size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    chunks: z.array(chunkWire).max(CHUNKS_PER_LINE).optional(),
    linked: z.literal(true).optional(),
    target: z
      .string()
      .min(1)
      .max(4096)
      .regex(/^[^\0]+$/, 'no NUL')
      .optional(),
    link: z.string().optional(),
    kind: z.enum(['fifo', 'char', 'block', 'socket']).optional(),
    rdev: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    xattrs: xattrsWire.optional(),
  })
  .superRefine((e, ctx) => {
    const fail = (message: string): void => ctx.addIssue({ code: 'custom', message });
    const only = (fields: (keyof typeof e)[]): void => {
      for (const f of ['chunks', 'linked', 'target', 'link', 'kind', 'rdev'] as const) {
        if (e[f] !== undefined && !fields.includes(f)) fail(`a ${e.type} entry has no '${f}'`);
      }
    };
    if (e.type !== 'file' && e.size !== 0) fail(`a ${e.type} entry has size 0`);
    if (e.type === 'file') {
      only(['chunks', 'linked']);
      if (e.chunks === undefined) fail('a file entry needs chunks');
    } else if (e.type === 'symlink') {
      only(['target']);
      if (e.target === undefined) fail('a symlink entry needs a target');
    } else if (e.type === 'hardlink') {
      only(['link']);
      if (e.link === undefined) fail('a hardlink entry needs a link');
    } else if (e.type === 'other') {
      only(['kind', 'rdev']);
      if (e.kind === undefined) fail('an other entry needs a kind');
    } else only([]);
  });
export type EntryWire = z.infer<typeof entryWire>;

export const moreWire = z.object({ more: z.array(chunkWire).min(1).max(CHUNKS_PER_LINE) });

export const rootMetaWire = z.object({
  mode: z.number().int().min(0).max(0o7777),
  uid: u32,
  gid: u32,
  mtime: ns,
  xattrs: xattrsWire.optional(),
});

const xattrsToWire = (x: Record<string, Buffer> | undefined): Record<string, string> | undefined =>
  x === undefined || Object.keys(x).length === 0
    ? undefined
    : Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v.toString('base64')]));
const xattrsFromWire = (x: Record<string, string> | undefined): Record<string, Buffer> | undefined =>
  x === undefined ? undefined : Object.fromEntries(Object.entries(x).map(([k, v]) => [k, Buffer.from(v, 'base64')]));

/** The wire object of an entry, with at most `chunks` (the rest goes on continuation lines). */
export function entryToWire(e: FileEntry, chunks: ChunkRef[] | undefined): Record<string, unknown> {
  const w: Record<string, unknown> = { path: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtimeNs.toString() };
  if (e.ctimeNs !== undefined) w.ctime = e.ctimeNs.toString();
  if (e.ino !== undefined) w.ino = e.ino.toString();
  w.size = e.size;
  if (chunks !== undefined) w.chunks = chunks.map((c) => [c.id, c.size]);
  if (e.linked === true) w.linked = true;
  if (e.target !== undefined) w.target = e.target;
  if (e.link !== undefined) w.link = e.link;
  if (e.kind !== undefined) w.kind = e.kind;
  if (e.rdev !== undefined) w.rdev = e.rdev;
  const x = xattrsToWire(e.xattrs);
  if (x !== undefined) w.xattrs = x;
  return w;
}

export function entryFromWire(w: EntryWire): FileEntry {
  const e: FileEntry = { path: w.path, type: w.type, mode: w.mode, uid: w.uid, gid: w.gid, mtimeNs: BigInt(w.mtime), size: w.size };
  if (w.ctime !== undefined) e.ctimeNs = BigInt(w.ctime);
  if (w.ino !== undefined) e.ino = BigInt(w.ino);
  if (w.chunks !== undefined) e.chunks = w.chunks.map(([id, size]) => ({ id, size }));
  if (w.linked === true) e.linked = true;
  if (w.target !== undefined) e.target = w.target;
  if (w.link !== undefined) e.link = w.link;
  if (w.kind !== undefined) e.kind = w.kind;
  if (w.rdev !== undefined) e.rdev = w.rdev;
  const x = xattrsFromWire(w.xattrs);
  if (x !== undefined) e.xattrs = x;
  return e;
}

export function rootMetaToWire(r: RootMeta): Record<string, unknown> {
  const w: Record<string, unknown> = { mode: r.mode, uid: r.uid, gid: r.gid, mtime: r.mtimeNs.toString() };
  const x = xattrsToWire(r.xattrs);
  if (x !== undefined) w.xattrs = x;
  return w;
}

export function rootMetaFromWire(w: z.infer<typeof rootMetaWire>): RootMeta {
  const r: RootMeta = { mode: w.mode, uid: w.uid, gid: w.gid, mtimeNs: BigInt(w.mtime) };
  const x = xattrsFromWire(w.xattrs);
  if (x !== undefined) r.xattrs = x;
  return r;
}
