// The checks that need more than one entry: order, parents, hard links. Used by the writer (so it
// never writes what a reader refuses) and by the reader (so a crafted index is refused).
import type { FileEntry } from './entry.js';
import { comparePaths, isWithin, parentPath } from './paths.js';

/**
 * Feed entries in order; `check` returns what is wrong with the next one, or undefined.
 * - paths strictly increase in tree order;
 * - an entry's parent is `base` or a directory entry seen before (so nothing is ever written
 *   through a symlink: a symlink is no directory);
 * - a file's chunk sizes add up to its size;
 * - a hard link names a `linked` file seen before (only checked when `links` is on: a subtree
 *   listing may not hold its target).
 * Memory: the directories on the current path, and the paths of `linked` files.
 */
export class TreeCheck {
  #prev: string | undefined;
  #dirs: string[] = [];
  #linked = new Set<string>();
  readonly #base: string;
  readonly #links: boolean;

  /** `base`: the parent of the first entry when checking a subtree; `links`: check hard links. */
  constructor(base = '', links = true) {
    this.#base = base;
    this.#links = links;
  }

  /** What is wrong with `e` as the next entry, or undefined (then it is taken as the next). */
  check(e: FileEntry): string | undefined {
    if (this.#prev !== undefined && comparePaths(this.#prev, e.path) >= 0) {
      return `${JSON.stringify(e.path)} is out of order (after ${JSON.stringify(this.#prev)})`;
    }
    let depth = this.#dirs.length;
    while (depth > 0 && !isWithin(e.path, this.#dirs[depth - 1]!)) depth--;
    if (parentPath(e.path) !== (depth > 0 ? this.#dirs[depth - 1] : this.#base)) {
      return `the parent of ${JSON.stringify(e.path)} is not a directory entry before it`;
    }
    if (e.type === 'file') {
      const sum = (e.chunks ?? []).reduce((a, c) => a + c.size, 0);
      if (sum !== e.size) return `the chunks of ${JSON.stringify(e.path)} add up to ${sum} bytes, its size is ${e.size}`;
    }
    if (e.type === 'hardlink' && this.#links && !this.#linked.has(e.link ?? '')) {
      return `hard link ${JSON.stringify(e.path)} names ${JSON.stringify(e.link)}, which is no linked file before it`;
    }
    this.#prev = e.path;
    this.#dirs.length = depth;
    if (e.type === 'dir') this.#dirs.push(e.path);
    if (e.type === 'file' && e.linked === true && this.#links) this.#linked.add(e.path);
    return undefined;
  }
}
