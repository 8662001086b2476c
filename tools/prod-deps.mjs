// prod-deps.mjs — the files a production install of the given workspace packages needs, for
// tools/install.sh: one line per entry, relative to the repository root, found the way Node
// resolves packages (node_modules of the package's real directory, then of each directory above),
// following dependencies, optionalDependencies that are installed, and peerDependencies that are
// installed and not marked optional.
//
//   node tools/prod-deps.mjs apps/daemon apps/cli apps/backup
//   node tools/prod-deps.mjs --stage DIR apps/daemon apps/cli apps/backup   # copy them into DIR
//
// Lines: `link PATH` (a symlink to copy as is: node_modules/@convoy/x → ../../packages/x),
// `pkg DIR` (a package from the registry: copy the directory without its node_modules),
// `workspace DIR` (one of ours: copy its package.json, README.md and what its `files` lists).
// Needs nothing but Node: it runs where npm is absent too.
import fs from 'node:fs';
import path from 'node:path';

const root = fs.realpathSync(path.join(path.dirname(new URL(import.meta.url).pathname), '..'));
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const out = new Map(); // entry line → true, in discovery order
const seen = new Set(); // real package directories already followed

/** Where `name` resolves from the real directory `from`: the first node_modules/name above it. */
function locate(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === path.dirname(dir)) return undefined;
  }
}

function follow(dir) {
  const real = fs.realpathSync(dir);
  if (seen.has(real)) return;
  seen.add(real);
  const rel = path.relative(root, real);
  if (rel.startsWith('..')) throw new Error(`${dir} resolves outside the repository (${real})`);
  out.set(`${rel.split(path.sep).includes('node_modules') ? 'pkg' : 'workspace'} ${rel}`, true);
  const pkg = readJson(path.join(real, 'package.json'));
  const required = Object.keys(pkg.dependencies ?? {});
  // peers marked optional (vitest for @convoy/objectstore/testing) are for development: left out
  const peers = Object.keys(pkg.peerDependencies ?? {}).filter((p) => pkg.peerDependenciesMeta?.[p]?.optional !== true);
  const optional = [...Object.keys(pkg.optionalDependencies ?? {}), ...peers];
  for (const name of [...required, ...optional]) {
    const found = locate(name, real);
    if (found === undefined) {
      if (required.includes(name)) throw new Error(`${rel}: dependency ${name} is not installed (run npm ci)`);
      continue; // an optional or peer dependency for another platform, or not wanted
    }
    if (fs.lstatSync(found).isSymbolicLink()) out.set(`link ${path.relative(root, found)}`, true);
    follow(found);
  }
}

/** Copies each entry into `stage` at the same relative path (one process: fast where spawning is slow, as under qemu). */
function stageInto(stage) {
  for (const line of out.keys()) {
    const [kind, rel] = line.split(' ', 2);
    const from = path.join(root, rel);
    const to = path.join(stage, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    if (kind === 'link') fs.symlinkSync(fs.readlinkSync(from), to);
    else if (kind === 'pkg')
      fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true, filter: (src) => src !== path.join(from, 'node_modules') });
    else {
      // ours: as npm would pack it
      const pkg = readJson(path.join(from, 'package.json'));
      for (const f of ['package.json', 'README.md', ...(pkg.files ?? [])]) {
        if (!fs.existsSync(path.join(from, f))) {
          if (f === 'README.md') continue;
          throw new Error(`${rel}/${f} is missing (not built?)`);
        }
        fs.cpSync(path.join(from, f), path.join(to, f), {
          recursive: true,
          verbatimSymlinks: true,
          filter: (src) => !src.endsWith('.tsbuildinfo'),
        });
      }
    }
  }
}

const args = process.argv.slice(2);
const stage = args[0] === '--stage' ? args[1] : undefined;
const dirs = stage === undefined ? args : args.slice(2);
if (dirs.length === 0 || (args[0] === '--stage' && stage === undefined)) {
  process.stderr.write('usage: node tools/prod-deps.mjs [--stage DIR] WORKSPACE_DIR...\n');
  process.exit(2);
}
for (const a of dirs) follow(path.resolve(root, a));
if (stage === undefined) process.stdout.write([...out.keys()].join('\n') + '\n');
else stageInto(path.resolve(stage));
