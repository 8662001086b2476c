// restoreDirectory: a directory backup into an empty directory — all of it, or one file or
// subtree (`path`), fetching only the chunks of what is restored.
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock, fetchBlock, readHeader, type Manifest, type ProgressCallback, type StoreLock } from '@convoy/blockstore';
import { ConvoyError } from '@convoy/errors';
import { assertSafePath, parentPath, type FileEntry, type FileIndexReader } from '@convoy/fileindex';
import type { ObjectStore } from '@convoy/objectstore';
import { openRestoreWork } from './target-dir.js';
import { openIndex, readDirectoryManifest, readPackMap, ZeroChunks } from './store-io.js';
import { PackCache, readPacked } from './pack-io.js';
import {
  finishDirectory,
  finishEntry,
  makeDirectory,
  makeHardLink,
  makeOther,
  makeSymlink,
  writeFailed,
  writeFile,
  type ChunkSource,
} from './write-entry.js';

export interface DirectoryRestoreOptions {
  store: ObjectStore;
  volume: string;
  id: string;
  /** An empty directory, or a path that does not exist yet (created). */
  target: string;
  /** Restore only this file or subtree (relative to the backed-up directory), at its path under the target. */
  path?: string;
  /**
   * Write into the target itself (default false: into a temporary directory beside it, renamed
   * over it once everything is restored, so a failed restore leaves no partial tree). A caller
   * that marks the target incomplete itself (the vfs driver's volume record) may write in place.
   */
  inPlace?: boolean;
  /** Restore owners (default: when running as root). */
  owners?: boolean;
  /** Files written concurrently (default 8). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

export interface DirectoryRestoreResult {
  manifest: Manifest;
  entries: number;
  files: number;
  bytesWritten: number;
  bytesFetched: number;
  chunksFetched: number;
  /** Entries not created (sockets; devices when not root) and xattrs the target refused. */
  skipped: number;
  xattrsSkipped: number;
}

export async function restoreDirectory(options: DirectoryRestoreOptions): Promise<DirectoryRestoreResult> {
  const { store, signal } = options;
  if (options.path !== undefined) assertSafePath(options.path, 'the path to restore');
  const opened = await readHeader(store, signal);
  const out = await openRestoreWork(options.target, options.inPlace === true);
  const work = out.dir;
  let lock: StoreLock | undefined;
  let done = false;
  try {
    // The lease before the manifest: a sweep waits for restores (docs/gc-safety.md, "Restores").
    lock = await acquireLock(store, { kind: 'restore', volume: options.volume, signal });
    const manifest = await readDirectoryManifest(opened, options.volume, options.id, signal);
    const reader = await openIndex(opened, manifest, signal);
    const owners = options.owners ?? process.geteuid?.() === 0;
    const zeros = new ZeroChunks(opened);
    const r = { manifest, entries: 0, files: 0, bytesWritten: 0, bytesFetched: 0, chunksFetched: 0, skipped: 0, xattrsSkipped: 0 };
    const xs = { n: 0 };
    const progress = (): void =>
      options.onProgress?.({
        phase: 'restore',
        bytesDone: r.bytesWritten,
        bytesTotal: reader.root.bytes,
        blocksDone: r.files,
        blocksTotal: reader.root.entries,
        bytesTransferred: r.bytesFetched,
      });
    const packs = await readPackMap(opened, manifest, signal);
    const whole = new PackCache(opened, signal); // a full restore reads every pack once
    const fetch: ChunkSource = async (c) => {
      if (zeros.isZero(c.id, c.size)) return undefined;
      const loc = packs?.get(c.id);
      let data: Buffer;
      if (loc === undefined) {
        const got = await fetchBlock(opened, c.id, signal);
        data = got.data;
        r.bytesFetched += got.stored;
      } else if (options.path === undefined) {
        const before = whole.bytesFetched;
        data = await whole.read(c.id, loc);
        r.bytesFetched += whole.bytesFetched - before;
      } else {
        const got = await readPacked(opened, c.id, loc, signal);
        data = got.data;
        r.bytesFetched += got.stored;
      }
      r.chunksFetched++;
      progress();
      return data;
    };
    const abs = (p: string): string => join(work, p);
    const dirs: FileEntry[] = [];
    if (options.path !== undefined) {
      if ((await reader.lookup(options.path)) === undefined) throw pathNotFound(options.path, manifest); // before anything is created
      await makeAncestors(reader, options.path, abs, dirs);
    }
    const placed = new Map<string, Promise<string>>(); // linked file path -> where it was written
    const pending: Promise<void>[] = [];
    let failure: unknown;
    const limit = Math.max(1, options.concurrency ?? 8);
    const file = async (e: FileEntry, chunks: FileEntry['chunks']): Promise<void> => {
      // Not `r.bytesWritten += await …`: that reads the sum before the await, and files written
      // concurrently would overwrite each other's counts.
      const written = await writeFile(abs(e.path), e, chunks ?? [], fetch, owners);
      r.bytesWritten += written;
      finishEntry(abs(e.path), e, xs);
      r.files++;
    };
    const run = (p: Promise<void>): void => {
      const q = p.catch((err: unknown) => void (failure ??= err));
      pending.push(q);
    };
    const entries = options.path === undefined ? reader.entries() : reader.list(options.path);
    for await (const e of entries) {
      signal?.throwIfAborted();
      if (failure !== undefined) break;
      r.entries++;
      const at = abs(e.path);
      if (e.type === 'dir') {
        await makeDirectory(at);
        dirs.push(e);
      } else if (e.type === 'file') {
        const done = file(e, e.chunks);
        if (e.linked === true)
          placed.set(
            e.path,
            done.then(() => at),
          );
        run(done);
      } else if (e.type === 'hardlink') {
        const first = placed.get(e.link!);
        if (first !== undefined) {
          const existing = await first;
          await makeHardLink(existing, at);
        } else {
          // Its file lies outside the subtree restored: the first link restored gets the content.
          const target = await reader.resolveLink(e);
          const done = file({ ...target, path: e.path }, target.chunks);
          placed.set(
            e.link!,
            done.then(() => at),
          );
          run(done);
        }
      } else if (e.type === 'symlink') {
        await makeSymlink(at, e, owners);
        finishEntry(at, e, xs);
      } else if (await makeOther(at, e, owners)) finishEntry(at, e, xs);
      else r.skipped++;
      while (pending.length >= limit) await pending.shift();
    }
    await Promise.all(pending);
    if (failure !== undefined) throw failure;
    if (r.entries === 0 && options.path !== undefined) throw pathNotFound(options.path, manifest);
    for (const d of dirs.reverse()) {
      await finishDirectory(abs(d.path), d, owners);
      finishEntry(abs(d.path), d, xs);
    }
    if (options.path === undefined) {
      const root = reader.root.root;
      await finishDirectory(work, root, owners);
      finishEntry(work, root, xs);
    } else await chmod(work, out.targetMode).catch((err: unknown) => Promise.reject(writeFailed(work, err)));
    r.xattrsSkipped = xs.n;
    await out.commit();
    progress(); // the last word: every file written (a tree of cached or empty files fetches nothing)
    done = true;
    return r;
  } finally {
    if (!done) await out.abandon();
    await lock?.release();
  }
}

/** The directories above `path`, created from their index entries (never from the filesystem). */
async function makeAncestors(reader: FileIndexReader, path: string, abs: (p: string) => string, dirs: FileEntry[]): Promise<void> {
  const chain: string[] = [];
  for (let p = parentPath(path); p !== ''; p = parentPath(p)) chain.unshift(p);
  for (const p of chain) {
    const e = await reader.lookup(p);
    if (e?.type !== 'dir')
      throw new ConvoyError(
        'CONVOY_BACKUP_PATH_NOT_FOUND',
        `the backup holds no directory ${JSON.stringify(p)} above ${JSON.stringify(path)}`,
        { details: { path } },
      );
    await makeDirectory(abs(p));
    dirs.push(e);
  }
}

function pathNotFound(path: string, m: Manifest): ConvoyError {
  return new ConvoyError('CONVOY_BACKUP_PATH_NOT_FOUND', `backup ${m.id} of ${m.volume} holds nothing at ${JSON.stringify(path)}`, {
    details: { path },
  });
}
