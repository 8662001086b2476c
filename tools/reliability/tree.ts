// Directory trees for the daemon campaigns: seeded files written into a volume, and one sha256
// over a tree (paths, kinds, sizes, modes, bytes, link targets) to judge a snapshot or a restore bit-exact.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Rng } from './prng.js';

/** Writes `files` seeded files (text and random, up to `maxBytes` each, some in subdirectories) into `dir`. */
export async function writeTree(dir: string, rng: Rng, files: number, maxBytes: number): Promise<void> {
  for (let i = 0; i < files; i++) {
    const sub = rng.chance(0.3) ? `d${rng.int(0, 3)}` : '';
    const file = path.join(dir, sub, `f-${rng.int(0, 1e9).toString(36)}.${rng.chance(0.5) ? 'bin' : 'txt'}`);
    const size = rng.int(0, maxBytes);
    const body = rng.chance(0.5) ? rng.fill(Buffer.alloc(size)) : Buffer.from('convoy '.repeat(Math.ceil(size / 7)).slice(0, size));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, body, { mode: rng.chance(0.2) ? 0o600 : 0o644 });
  }
}

/** sha256 over every entry under `dir`, in sorted order; undefined if `dir` does not exist. */
export async function treeHash(dir: string): Promise<string | undefined> {
  try {
    await fs.access(dir);
  } catch {
    return undefined;
  }
  const h = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const entries = (await fs.readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      const p = path.join(rel, e.name);
      const st = await fs.lstat(path.join(dir, p));
      h.update(`${p}\0${e.isDirectory() ? 'd' : e.isFile() ? 'f' : 'o'}\0${(st.mode & 0o7777).toString(8)}\0`);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) h.update(await fs.readFile(path.join(dir, p)));
      else if (e.isSymbolicLink()) h.update(`-> ${await fs.readlink(path.join(dir, p))}`);
    }
  };
  await walk('');
  return h.digest('hex');
}
