import { constants, type Dir } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { errorCode } from '@convoy/errors';
import { throwIfAborted } from '../abort.js';
import { ObjectExistsError, ObjectNotFoundError, ObjectStoreError } from '../errors.js';
import { validateKey, validatePrefix } from '../keys.js';
import { formatStoreUrl } from '../url.js';
import type {
  CleanupStaleOptions,
  CleanupStaleResult,
  DeleteOptions,
  GetOptions,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutOptions,
} from '../types.js';
import { DeferredPuts } from './fs-deferred.js';
import { fsyncDir, sweepStaleTempFiles, tempPathFor, writeTempFile } from './fs-temp.js';

/**
 * A store in a directory: one file per object, `/` in keys are subdirectories.
 *
 * Writes go to a temporary file in the target directory (a name no valid key can have: it
 * contains `~`), are fsynced, then renamed into place (or hard-linked, for "only if absent":
 * link(2) fails with EEXIST atomically, also on NFS), and the directory is fsynced.
 * No advisory locks are used, so it works on NFS/GlusterFS shared directories.
 * A writer killed before the rename leaves its temporary file; `cleanupStale` removes old ones.
 */
export class FsObjectStore implements ObjectStore {
  readonly location: string;
  readonly #root: string;
  readonly #deferred = new DeferredPuts();

  constructor(root: string) {
    if (!path.isAbsolute(root)) throw new ObjectStoreError(`fs store root must be absolute: ${root}`);
    this.#root = path.resolve(root);
    this.location = formatStoreUrl({ kind: 'vfs', path: this.#root });
  }

  /** Creates the root directory if needed and checks that it is a writable directory. */
  async open(): Promise<this> {
    try {
      await fs.mkdir(this.#root, { recursive: true });
      await fs.access(this.#root, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (err) {
      throw this.#fail(
        `cannot open store directory ${this.#root}`,
        undefined,
        err,
        'check that the path exists and is writable by the daemon user',
      );
    }
    return this;
  }

  async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    validateKey(key);
    throwIfAborted(options.signal, `get ${key}`);
    const file = this.#path(key);
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(file, constants.O_RDONLY);
    } catch (err) {
      if (await this.#absent(err)) throw new ObjectNotFoundError(this.location, key);
      throw this.#fail('cannot open', key, err);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new ObjectNotFoundError(this.location, key);
      if (options.range !== undefined && (options.range.offset < 0 || options.range.length < 0)) {
        throw new ObjectStoreError(`invalid range for ${key}`, { code: 'CONVOY_OBJECT_RANGE_INVALID' });
      }
      const start = Math.min(st.size, options.range?.offset ?? 0);
      const end = options.range === undefined ? st.size : Math.min(st.size, start + options.range.length);
      if (end < start) throw new ObjectStoreError(`invalid range for ${key}`, { code: 'CONVOY_OBJECT_RANGE_INVALID' });
      const buf = Buffer.allocUnsafe(end - start);
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await fh.read(buf, done, buf.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === buf.length ? buf : buf.subarray(0, done);
    } catch (err) {
      if (err instanceof ObjectStoreError) throw err;
      throw this.#fail('cannot read', key, err);
    } finally {
      await fh.close();
    }
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<void> {
    validateKey(key);
    throwIfAborted(options.signal, `put ${key}`);
    const file = this.#path(key);
    const dir = path.dirname(file);
    const tmp = tempPathFor(file);
    const deferred = options.deferred === true && options.ifAbsent !== true;
    try {
      await writeTempFile(dir, tmp, body, options.signal, !deferred);
      if (deferred) {
        await this.#deferred.add(tmp, file);
        return;
      }
      if (options.ifAbsent === true) {
        try {
          await fs.link(tmp, file);
        } catch (err) {
          if (errorCode(err) === 'EEXIST') throw new ObjectExistsError(this.location, key);
          throw err;
        } finally {
          await fs.rm(tmp, { force: true });
        }
      } else {
        await fs.rename(tmp, file);
      }
      try {
        await fsyncDir(dir);
      } catch (err) {
        // The object is in place; a concurrent delete of it (another host) may have pruned its
        // directory since: that is put-then-delete, not a failed write. A vanished root is.
        if (errorCode(err) !== 'ENOENT' || !(await this.#absent(err))) throw err;
      }
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      if (err instanceof ObjectStoreError) throw err;
      throw this.#fail('cannot write', key, err);
    }
  }

  async stat(key: string, options: { signal?: AbortSignal } = {}): Promise<ObjectInfo | undefined> {
    validateKey(key);
    throwIfAborted(options.signal, `stat ${key}`);
    try {
      const st = await fs.stat(this.#path(key));
      return st.isFile() ? { key, size: st.size, lastModified: st.mtime } : undefined;
    } catch (err) {
      if (await this.#absent(err)) return undefined;
      throw this.#fail('cannot stat', key, err);
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix);
    // Start at the deepest directory the prefix names completely; filter the rest by string prefix.
    const slash = prefix.lastIndexOf('/');
    const baseKey = slash < 0 ? '' : prefix.slice(0, slash);
    yield* this.#walk(baseKey, prefix, options.signal);
  }

  async *#walk(dirKey: string, prefix: string, signal: AbortSignal | undefined): AsyncIterable<ObjectInfo> {
    let dir: Dir;
    try {
      dir = await fs.opendir(dirKey === '' ? this.#root : this.#path(dirKey), { bufferSize: 256 });
    } catch (err) {
      if (await this.#absent(err)) return;
      throw this.#fail('cannot list', prefix === '' ? '/' : prefix, err);
    }
    try {
      for await (const entry of dir) {
        throwIfAborted(signal, `list ${prefix}`);
        if (entry.name.includes('~')) continue; // temporary file of a write in progress
        const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
        if (entry.isDirectory()) {
          // descend only where keys below can still match the prefix
          if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix)) yield* this.#walk(key, prefix, signal);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          try {
            const st = await fs.stat(path.join(dir.path, entry.name));
            yield { key, size: st.size, lastModified: st.mtime };
          } catch (err) {
            if (errorCode(err) !== 'ENOENT') throw this.#fail('cannot stat', key, err); // deleted meanwhile: skip
          }
        }
      }
    } catch (err) {
      if (err instanceof ObjectStoreError) throw err;
      throw this.#fail('cannot list', dirKey === '' ? '/' : dirKey, err);
    }
  }

  async delete(keys: readonly string[], options: DeleteOptions = {}): Promise<void> {
    keys.forEach(validateKey);
    const failed: string[] = [];
    let firstError: unknown;
    for (const key of keys) {
      throwIfAborted(options.signal, 'delete');
      try {
        await fs.unlink(this.#path(key));
        await this.#pruneEmptyDirs(path.dirname(this.#path(key)));
      } catch (err) {
        if (await this.#absent(err)) continue;
        failed.push(key);
        firstError ??= err;
      }
    }
    if (failed.length > 0) {
      throw new ObjectStoreError(`cannot delete ${failed.length} of ${keys.length} objects in ${this.location} (first: ${failed[0]})`, {
        cause: firstError,
        details: { location: this.location, failed: failed.slice(0, 20) },
      });
    }
  }

  /**
   * Removes temporary files of killed writers last modified before `olderThan` (see fs-temp.ts):
   * regular files with the temp name only, never objects; symlinks are neither followed nor removed.
   */
  async cleanupStale(options: CleanupStaleOptions): Promise<CleanupStaleResult> {
    throwIfAborted(options.signal, 'cleanup of stale temporary files');
    try {
      return await sweepStaleTempFiles(this.#root, options.olderThan, options.signal);
    } catch (err) {
      if (err instanceof ObjectStoreError) throw err;
      const file = (err as { path?: unknown } | null)?.path;
      const where = typeof file === 'string' && file.startsWith(this.#root + path.sep) ? path.relative(this.#root, file) : undefined;
      throw this.#fail('cannot clean up stale temporary files at', where, err);
    }
  }

  /** Deferred puts (fs-deferred.ts): fsynced, renamed into place and their directories fsynced, together. */
  async flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    throwIfAborted(options.signal, 'flush');
    try {
      await this.#deferred.flush();
    } catch (err) {
      if (err instanceof ObjectStoreError) throw err;
      throw this.#fail('cannot make deferred writes durable at', undefined, err);
    }
  }

  async close(): Promise<void> {
    await this.#deferred.drop();
  }

  /**
   * ENOENT/ENOTDIR mean "no such object" only while the store directory itself is there: a
   * vanished root (deleted, or an NFS mount gone stale) is a failure, not an empty store.
   */
  async #absent(err: unknown): Promise<boolean> {
    if (errorCode(err) !== 'ENOENT' && errorCode(err) !== 'ENOTDIR') return false;
    try {
      return (await fs.stat(this.#root)).isDirectory();
    } catch {
      return false;
    }
  }

  #path(key: string): string {
    return path.join(this.#root, ...key.split('/'));
  }

  async #pruneEmptyDirs(dir: string): Promise<void> {
    let d = dir;
    while (d.length > this.#root.length && d.startsWith(this.#root + path.sep)) {
      try {
        await fs.rmdir(d);
      } catch {
        return; // not empty, or already gone: either way stop
      }
      d = path.dirname(d);
    }
  }

  #fail(what: string, key: string | undefined, cause: unknown, hint?: string): ObjectStoreError {
    const code = errorCode(cause);
    const where = key === undefined ? this.location : `${key} in ${this.location}`;
    return new ObjectStoreError(`${what} ${where}: ${code ?? (cause as Error)?.message ?? String(cause)}`, {
      cause,
      hint:
        hint ??
        (code === 'ENOSPC'
          ? 'the backup filesystem is full'
          : code === 'EACCES'
            ? 'permission denied: check ownership of the store directory'
            : undefined),
      details: { location: this.location, key, errno: code },
    });
  }
}
