// Directory volumes for the store campaigns (crash, faulty S3): a source directory of seeded files
// (small ones that go into packs, large ones cut into loose chunks, subdirectories, an empty
// directory, a symlink), changed between backups by rewriting, appending, deleting and adding
// files. A state's sha256 is tree.ts's hash over paths, kinds, modes, link targets and bytes, so
// a restore is judged bit-exact by hashing the restored tree. Directory backups' blocks are not
// predictable from the model (chunk boundaries are content-defined, packs group chunks), so a
// store holding any is judged for leaks by emptying it: every backup deleted, then full
// maintenances must leave no block at all (world-gc.ts).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ImageState } from './images.js';
import type { Rng } from './prng.js';
import { treeHash } from './tree.js';

export interface DirShape {
  /** Files in a new tree. */
  files: number;
  /** Largest small file (they go into packs). */
  maxSmallBytes: number;
  /** Large files (a few MiB each: loose chunks) in a new tree. */
  largeFiles: number;
}

const MiB = 1024 * 1024;

/** A file body: random bytes or log-like text (compressible), `size` long. */
function body(rng: Rng, size: number): Buffer {
  if (rng.chance(0.5)) return rng.fill(Buffer.alloc(size));
  const line = `${rng.int(0, 1e9).toString(36)} convoy backup of a directory volume ok\n`;
  return Buffer.from(line.repeat(Math.ceil(size / line.length)).slice(0, size), 'latin1');
}

async function writeFile(file: string, rng: Rng, size: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, body(rng, size), { mode: rng.chance(0.2) ? 0o600 : 0o644 });
}

const fileName = (rng: Rng): string =>
  path.join(rng.chance(0.4) ? `d${rng.int(0, 3)}` : '', rng.chance(0.2) ? 'deep/er' : '', `f-${rng.int(0, 1e9).toString(36)}`);

/** Writes a new seeded tree into `dir` (created) and answers its state. */
export async function newTree(dir: string, rng: Rng, shape: DirShape): Promise<ImageState> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(path.join(dir, 'empty'), { recursive: true });
  for (let i = 0; i < shape.files; i++) await writeFile(path.join(dir, fileName(rng)), rng, rng.int(0, shape.maxSmallBytes));
  for (let i = 0; i < shape.largeFiles; i++) await writeFile(path.join(dir, `large-${i}.bin`), rng, rng.int(1 * MiB, 3 * MiB));
  await fs.symlink('large-0.bin', path.join(dir, 'link-to-large'));
  return treeState(dir);
}

/** Changes about `share` of the files (rewritten, appended to or deleted) and adds new ones; answers the new state. */
export async function mutateTree(dir: string, rng: Rng, share: number, shape: DirShape): Promise<ImageState> {
  const files = (await fs.readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  for (const file of files) {
    if (!rng.chance(share)) continue;
    const what = rng.int(0, 9);
    if (what < 5)
      await writeFile(
        file,
        rng,
        (await fs.stat(file)).size > shape.maxSmallBytes ? rng.int(1 * MiB, 3 * MiB) : rng.int(0, shape.maxSmallBytes),
      );
    else if (what < 8) await fs.appendFile(file, body(rng, rng.int(1, 64 * 1024)));
    else if (!file.endsWith('large-0.bin')) await fs.rm(file);
  }
  const added = Math.max(1, Math.round(shape.files * share * 0.3));
  for (let i = 0; i < added; i++) await writeFile(path.join(dir, fileName(rng)), rng, rng.int(0, shape.maxSmallBytes));
  return treeState(dir);
}

/** The model's state of a tree: its hash and byte count (no regions, no predictable blocks). */
export async function treeState(dir: string): Promise<ImageState> {
  const sha256 = await treeHash(dir);
  if (sha256 === undefined) throw new Error(`no tree at ${dir}`);
  let size = 0;
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) size += (await fs.stat(path.join(e.parentPath, e.name))).size;
  return { size, regions: [], sha256, blockIds: [] };
}

/** Hash of the tree at `dir`, or 'absent' when there is none, or 'empty' for an empty directory. */
export async function targetTreeHash(dir: string): Promise<string> {
  const entries = await fs.readdir(dir).catch(() => undefined);
  if (entries === undefined) return 'absent';
  if (entries.length === 0) return 'empty';
  return (await treeHash(dir)) ?? 'absent';
}

/** What a killed or failed restore's temporaries beside `target` are called (`.<name>.convoy-restore-…`). */
export async function restoreLeftovers(target: string): Promise<string[]> {
  const prefix = `.${path.basename(target)}.convoy-restore-`;
  return (await fs.readdir(path.dirname(target))).filter((f) => f.startsWith(prefix));
}
