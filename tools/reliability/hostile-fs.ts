// "Nothing is written outside its root and paths": a snapshot of a directory tree (every entry's
// type, mode, size, mtime, and a symlink's target) taken before and after, and the difference.
// The campaign snapshots its whole directory except the places the daemon may write (its root,
// its vfs path, the store directory, the sockets, the log), a sentinel tree inside it included,
// and looks for new entries named like the fuzzer's names in the directories around it.
import fs from 'node:fs';
import path from 'node:path';

export type Tree = Map<string, string>;

/** Every entry under `dir` (relative path → description), skipping the absolute paths in `skip`. */
export function snapshotTree(dir: string, skip: readonly string[] = []): Tree {
  const out: Tree = new Map();
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (err) {
      out.set(path.relative(dir, d), `unreadable: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (skip.includes(p)) continue;
      const st = fs.lstatSync(p);
      const kind = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? `link→${fs.readlinkSync(p)}` : st.isFile() ? 'file' : 'other';
      out.set(
        path.relative(dir, p),
        `${kind} mode ${(st.mode & 0o7777).toString(8)} size ${st.isDirectory() ? '-' : st.size} mtime ${st.mtimeMs}`,
      );
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** What changed from `before` to `after`, one line each. */
export function diffTrees(before: Tree, after: Tree): string[] {
  const out: string[] = [];
  for (const [p, d] of after) {
    const was = before.get(p);
    if (was === undefined) out.push(`new: ${p} (${d})`);
    else if (was !== d) out.push(`changed: ${p} (${was} → ${d})`);
  }
  for (const p of before.keys()) if (!after.has(p)) out.push(`gone: ${p}`);
  return out;
}

/** Entries of `dirs` (not recursive) whose names contain one of `markers`: names the fuzzer made up. */
export function strayEntries(dirs: readonly string[], markers: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (markers.some((m) => n.includes(m))) out.push(path.join(d, n));
  }
  return out;
}

/** A small tree of files and directories nothing may touch. */
export function plantSentinel(dir: string): void {
  fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'passwd'), 'root:x:0:0:sentinel\n');
  fs.writeFileSync(path.join(dir, 'sub', 'convoy.json'), '{"not":"a store"}\n');
  fs.writeFileSync(path.join(dir, 'sub', 'deeper', 'data'), 'sentinel data\n');
  fs.symlinkSync('../sub', path.join(dir, 'sub', 'deeper', 'loop'));
}
