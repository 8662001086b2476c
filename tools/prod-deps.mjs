// prod-deps.mjs — the files a production install of the given workspace packages needs, for
// tools/install.sh: one line per entry, relative to the repository root, found the way Node
// resolves packages (node_modules of the package's real directory, then of each directory above),
// following dependencies, optionalDependencies that are installed, and peerDependencies that are
// installed and not marked optional.
//
//   node tools/prod-deps.mjs apps/daemon apps/cli apps/backup
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

const args = process.argv.slice(2);
if (args.length === 0) {
  process.stderr.write('usage: node tools/prod-deps.mjs WORKSPACE_DIR...\n');
  process.exit(2);
}
for (const a of args) follow(path.resolve(root, a));
process.stdout.write([...out.keys()].join('\n') + '\n');
