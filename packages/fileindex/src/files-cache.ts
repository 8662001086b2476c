// The files cache: a file whose size, mtime (and, when they are stable, ctime and inode) are what
// the parent backup recorded is not read again; its chunk list is taken from the parent's index.
// Pure: the parent's entries come in as an iterable (FileIndexReader.entries()), in tree order,
// and are consumed alongside the walk — one pass, constant memory.
import { ConvoyError } from '@convoy/errors';
import type { ChunkRef, FileEntry } from './entry.js';
import { comparePaths } from './paths.js';

export interface FilesCacheOptions {
  /**
   * Compare ctime and inode too (default true). Turn off when the tree is a fresh copy each time
   * (a vfs snapshot made with `cp -a` has new inodes and ctimes, the same sizes and mtimes).
   */
  ctime?: boolean;
  inode?: boolean;
  /**
   * When the parent backup started (ns since the epoch). An entry whose mtime is not at least
   * `racyWindowNs` older than that may have changed again within the same mtime tick after it
   * was read: it is not trusted (git's "racily clean" rule).
   */
  parentStartedNs?: bigint;
  racyWindowNs?: bigint;
}

/** What the walk knows about a file now. */
export interface FileStat {
  path: string;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
}

/** Whether `previous` (the parent's entry for the same path) still describes `now`. */
export function unchanged(
  previous: FileEntry | undefined,
  now: FileStat,
  options: FilesCacheOptions = {},
): previous is FileEntry & { chunks: ChunkRef[] } {
  if (previous === undefined || previous.type !== 'file' || previous.chunks === undefined || previous.path !== now.path) return false;
  if (previous.size !== now.size || previous.mtimeNs !== now.mtimeNs) return false;
  if ((options.ctime ?? true) && previous.ctimeNs !== now.ctimeNs) return false;
  if ((options.inode ?? true) && previous.ino !== now.ino) return false;
  if (options.parentStartedNs !== undefined && previous.mtimeNs > options.parentStartedNs - (options.racyWindowNs ?? 1_000_000_000n))
    return false;
  return true;
}

/**
 * Looks files up in the parent backup's entries, in increasing path order (the walk's order).
 * `chunksFor` answers the chunk list to reuse, or undefined when the file must be read.
 */
export class FilesCache {
  readonly #it: AsyncIterator<FileEntry>;
  readonly #options: FilesCacheOptions;
  #head: FileEntry | undefined;
  #started = false;
  #done = false;
  #last: string | undefined;
  hits = 0;
  misses = 0;

  constructor(parentEntries: AsyncIterable<FileEntry>, options: FilesCacheOptions = {}) {
    this.#it = parentEntries[Symbol.asyncIterator]();
    this.#options = options;
  }

  async chunksFor(now: FileStat): Promise<ChunkRef[] | undefined> {
    if (this.#last !== undefined && comparePaths(this.#last, now.path) >= 0) {
      throw new ConvoyError('CONVOY_INTERNAL', `files cache: ${JSON.stringify(now.path)} asked after ${JSON.stringify(this.#last)}`, {
        hint: 'this is a bug: ask for files in tree order (the order of walkTree)',
      });
    }
    this.#last = now.path;
    if (!this.#started) {
      this.#started = true;
      await this.#next();
    }
    while (!this.#done && this.#head !== undefined && comparePaths(this.#head.path, now.path) < 0) await this.#next();
    const hit = unchanged(this.#head, now, this.#options);
    if (hit) this.hits++;
    else this.misses++;
    return hit ? this.#head!.chunks : undefined;
  }

  /** Stops reading the parent's entries. */
  async close(): Promise<void> {
    this.#done = true;
    await this.#it.return?.();
  }

  async #next(): Promise<void> {
    const r = await this.#it.next();
    this.#done = r.done === true;
    this.#head = r.done === true ? undefined : r.value;
  }
}
