// bundle-app.mjs — bundles a built app (its dist/main.js and every workspace and registry module
// it imports) into dist/bundle/ with rolldown, so that a run of the CLI loads a handful of files
// instead of hundreds: module resolution and compilation were half of the CPU time of a short
// `convoy-backup` run (0.65 s → 0.4 s on the 2-core machine; DESIGN.md). Run by the app's build
// after tsc:
//
//   node ../../tools/bundle-app.mjs            # in apps/<app>: dist/main.js → dist/bundle/main.js
//
// Kept external (loaded from node_modules as before): native addons and the packages that load
// them by platform (koffi, lz4-napi, @mongodb-js/zstd), and the AWS SDK (it is imported lazily by
// the S3 driver and resolves its own parts at run time). Dynamic imports stay lazy: they become
// chunks of their own. The chunker's worker (scan.js, found by `new URL('./scan.js',
// import.meta.url)` next to the module that starts it) is a second entry, written beside the
// chunks. Nothing is minified, and constants are not inlined: stack traces name our functions.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'rolldown';

const app = process.cwd();
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const main = path.join(app, 'dist', 'main.js');
if (!fs.existsSync(main)) {
  console.error(`bundle-app: ${main} is missing: run tsc first (npm run build in ${app})`);
  process.exit(1);
}
const outDir = path.join(app, 'dist', 'bundle');
const EXTERNAL = [/^koffi(\/|$)/, /^lz4-napi(\/|$)/, /^@mongodb-js\/zstd/, /\.node$/, /^@aws-sdk\//, /^@smithy\//];

const input = { main };
const scan = path.join(root, 'packages', 'chunker', 'dist', 'scan.js');
if (fs.existsSync(scan)) input.scan = scan;

fs.rmSync(outDir, { recursive: true, force: true });
await build({
  input,
  platform: 'node',
  external: EXTERNAL,
  logLevel: 'warn',
  // Constants stay where they are defined, not copied into each use: a module keeps its meaning,
  // and tools/reliability/lease-ttl.ts rewrites one of them (the default lease TTL) in one place.
  optimization: { inlineConst: false },
  output: { dir: outDir, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', sourcemap: false },
});
