// Unpacks a gzip-compressed tar stream (a Rancher Convoy v0.5.2 vfs backup) into a directory that
// only this restore writes, safely: every name must stay inside it (no absolute path, no ..), no
// entry is ever written through a symlink (each parent is a directory this extraction made or
// checked with lstat), every creation refuses to find something there (O_EXCL | O_NOFOLLOW,
// mkdir, symlink, link), hard links point only at files this archive created, and device nodes
// are made only as root. Parsing is tar-stream's; directory modes and times are set last.
import { constants } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ConvoyError, errorCode } from '@convoy/errors';
import * as tar from 'tar-stream';
import { makeNode } from '../native.js';
import { writeFailed } from '../write-entry.js';

export interface ExtractResult {
  entries: number;
  files: number;
  bytesWritten: number;
}

export interface ExtractOptions {
  /** Where the archive is from, for messages. */
  source: string;
  /** Restore owners and device nodes (default: when running as root). */
  owners?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Called with the bytes written so far after each file. */
  onFile?: (bytesWritten: number) => void;
}

export function archiveUnsafe(source: string, entry: string, reason: string): ConvoyError {
  return new ConvoyError('CONVOY_RANCHER_ARCHIVE_UNSAFE', `archive ${source}: entry ${JSON.stringify(entry.slice(0, 200))} ${reason}`, {
    hint: 'the archive was crafted or damaged: nothing was written for that entry; restore from another backup',
    details: { source, entry: entry.slice(0, 200) },
  });
}

export function archiveCorrupt(source: string, reason: string, cause?: unknown): ConvoyError {
  return new ConvoyError('CONVOY_RANCHER_ARCHIVE_CORRUPT', `archive ${source} is not a complete tar.gz: ${reason}`, {
    hint: 'the backup is damaged: restore from another backup; the target is incomplete',
    details: { source },
    cause,
  });
}

/** The entry's path relative to the root ('' for the root itself), or a refusal. */
export function safeRelative(source: string, name: string): string {
  if (name.includes('\0')) throw archiveUnsafe(source, name, 'holds a NUL character');
  if (name.startsWith('/')) throw archiveUnsafe(source, name, 'is an absolute path');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw archiveUnsafe(source, name, 'holds a ".." component');
  return parts.join('/');
}

interface DirMeta {
  rel: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date | undefined;
}

/** Extracts `gz` (the archive's bytes) into `root`, an empty directory. */
export async function extractTarGz(gz: AsyncIterable<Uint8Array>, root: string, o: ExtractOptions): Promise<ExtractResult> {
  const owners = o.owners ?? process.geteuid?.() === 0;
  const abs = (rel: string): string => (rel === '' ? root : join(root, rel));
  const dirs = new Set<string>(['']); // real directories this extraction made (or checked)
  const files = new Set<string>(); // regular files it created (hard-link sources)
  const finish: DirMeta[] = [];
  const r: ExtractResult = { entries: 0, files: 0, bytesWritten: 0 };

  const ensureParents = async (rel: string): Promise<void> => {
    const parts = rel.split('/');
    parts.pop();
    let cur = '';
    for (const p of parts) {
      cur = cur === '' ? p : `${cur}/${p}`;
      if (dirs.has(cur)) continue;
      const st = await lstat(abs(cur)).catch((err: unknown) =>
        errorCode(err) === 'ENOENT' ? undefined : Promise.reject(writeFailed(abs(cur), err)),
      );
      if (st === undefined) await mkdir(abs(cur), { mode: 0o700 }).catch((err: unknown) => Promise.reject(writeFailed(abs(cur), err)));
      else if (!st.isDirectory())
        throw archiveUnsafe(o.source, rel, `would be written through ${JSON.stringify(cur)}, which is not a directory`);
      dirs.add(cur);
    }
  };
  const exists = (rel: string, err: unknown): ConvoyError =>
    errorCode(err) === 'EEXIST' || errorCode(err) === 'ELOOP'
      ? archiveUnsafe(o.source, rel, 'would replace an entry restored before it')
      : writeFailed(abs(rel), err);

  const extract = tar.extract();
  const feed = pipeline(Readable.from(gz, { objectMode: false }), createGunzip(), extract, { signal: o.signal });
  let fed: unknown;
  const fedDone = feed.catch((err: unknown) => {
    fed = err;
  });
  try {
    for await (const entry of extract) {
      o.signal?.throwIfAborted();
      const h = entry.header;
      const rel = safeRelative(o.source, h.name);
      const mode = (h.mode ?? 0o644) & 0o7777;
      const uid = h.uid ?? 0;
      const gid = h.gid ?? 0;
      r.entries++;
      if (rel !== '') await ensureParents(rel);
      const at = abs(rel);
      switch (h.type) {
        case 'directory': {
          if (!dirs.has(rel)) {
            await mkdir(at, { mode: 0o700 }).catch((err: unknown) => Promise.reject(exists(rel, err)));
            dirs.add(rel);
          }
          finish.push({ rel, mode, uid, gid, mtime: h.mtime });
          entry.resume();
          break;
        }
        case 'file':
        case 'contiguous-file': {
          if (rel === '') throw archiveUnsafe(o.source, h.name, 'is a file in place of the root directory');
          const fh = await open(at, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600).catch(
            (err: unknown) => Promise.reject(exists(rel, err)),
          );
          const wrote = (err: unknown): Promise<never> => Promise.reject(writeFailed(at, err));
          try {
            // a read error here is the archive's (truncated, damaged): left as it is for asExtractError
            for await (const chunk of entry as AsyncIterable<Buffer>) {
              await fh.write(chunk).catch(wrote);
              r.bytesWritten += chunk.length;
            }
            if (owners) await fh.chown(uid, gid).catch(wrote);
            await fh.chmod(mode).catch(wrote); // after chown, which clears setuid/setgid
            if (h.mtime !== undefined) await fh.utimes(h.mtime, h.mtime).catch(wrote);
          } finally {
            await fh.close();
          }
          files.add(rel);
          r.files++;
          o.onFile?.(r.bytesWritten);
          break;
        }
        case 'symlink': {
          if (rel === '') throw archiveUnsafe(o.source, h.name, 'is a symlink in place of the root directory');
          await symlink(h.linkname ?? '', at).catch((err: unknown) => Promise.reject(exists(rel, err)));
          if (owners) await lchown(at, uid, gid).catch((err: unknown) => Promise.reject(writeFailed(at, err)));
          if (h.mtime !== undefined) await lutimes(at, h.mtime, h.mtime).catch((err: unknown) => Promise.reject(writeFailed(at, err)));
          entry.resume();
          break;
        }
        case 'link': {
          const src = safeRelative(o.source, h.linkname ?? '');
          if (!files.has(src))
            throw archiveUnsafe(o.source, h.name, `is a hard link to ${JSON.stringify(src)}, not a file restored before it`);
          await link(abs(src), at).catch((err: unknown) => Promise.reject(exists(rel, err)));
          entry.resume();
          break;
        }
        case 'fifo':
        case 'character-device':
        case 'block-device': {
          const type = h.type === 'fifo' ? constants.S_IFIFO : h.type === 'character-device' ? constants.S_IFCHR : constants.S_IFBLK;
          if (type !== constants.S_IFIFO && !owners)
            throw new ConvoyError(
              'CONVOY_TARGET_WRITE_FAILED',
              `cannot restore device node ${rel} from ${o.source}: only root may create device nodes`,
              {
                hint: 'run the restore as root',
                details: { path: rel },
              },
            );
          try {
            makeNode(at, type, 0o600, makedev(h.devmajor ?? 0, h.devminor ?? 0));
            if (owners) await lchown(at, uid, gid);
            await chmod(at, mode);
            if (h.mtime !== undefined) await utimes(at, h.mtime, h.mtime);
          } catch (err) {
            throw exists(rel, err);
          }
          entry.resume();
          break;
        }
        default:
          throw archiveUnsafe(o.source, h.name, `has entry type ${String(h.type)}, which is not restored`);
      }
    }
  } catch (err) {
    extract.destroy();
    await fedDone;
    throw asExtractError(o.source, err);
  }
  await fedDone;
  if (fed !== undefined) throw asExtractError(o.source, fed);
  // Deepest first: a read-only directory gets its mode after its children were written.
  for (const d of finish.sort((a, b) => b.rel.length - a.rel.length)) {
    const at = abs(d.rel);
    try {
      if (owners) await lchown(at, d.uid, d.gid);
      await chmod(at, d.mode);
      if (d.mtime !== undefined) await utimes(at, d.mtime, d.mtime);
    } catch (err) {
      throw writeFailed(at, err);
    }
  }
  return r;
}

function asExtractError(source: string, err: unknown): unknown {
  if (err instanceof ConvoyError) return err;
  if (err instanceof Error && err.name === 'AbortError') return err;
  // gunzip's and tar-stream's own errors: a damaged or truncated archive
  return archiveCorrupt(source, err instanceof Error ? err.message : String(err), err);
}

/** Linux's makedev(3). */
function makedev(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12);
}
