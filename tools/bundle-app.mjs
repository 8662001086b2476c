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
//
// tools/bench bundles the TypeScript sources of a frozen copy the same way, so that it measures
// what users run:
//
//   node tools/bundle-app.mjs --sources --main COPY/apps/backup/src/main.ts --scan COPY/packages/chunker/src/scan.ts --out DIR
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'rolldown';

const EXTERNAL = [/^koffi(\/|$)/, /^lz4-napi(\/|$)/, /^@mongodb-js\/zstd/, /\.node$/, /^@aws-sdk\//, /^@smithy\//];

/**
 * Bundles `main` (and `scan`, the chunker's worker, when given) into `outDir` as main.js and
 * scan.js plus chunks. `sources`: the inputs are TypeScript sources of the workspace: packages
 * resolve with the @convoy/source condition and `./x.js` imports find `./x.ts`.
 */
export async function bundleApp({ main, scan, outDir, sources = false }) {
  const input = { main };
  if (scan !== undefined && fs.existsSync(scan)) input.scan = scan;
  fs.rmSync(outDir, { recursive: true, force: true });
  await build({
    input,
    platform: 'node',
    external: EXTERNAL,
    logLevel: 'warn',
    ...(sources
      ? { resolve: { conditionNames: ['@convoy/source', 'import', 'node', 'default'], extensionAlias: { '.js': ['.ts', '.js'] } } }
      : {}),
    // Constants stay where they are defined, not copied into each use: a module keeps its meaning,
    // and tools/reliability/lease-ttl.ts rewrites one of them (the default lease TTL) in one place.
    optimization: { inlineConst: false },
    output: { dir: outDir, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', sourcemap: false },
  });
}

// Run as a script (not imported): compare real paths, a checkout may sit behind a symlink.
const self = fs.realpathSync(fileURLToPath(import.meta.url));
if (process.argv[1] !== undefined && fs.existsSync(process.argv[1]) && fs.realpathSync(process.argv[1]) === self) {
  const { values } = parseArgs({
    options: { main: { type: 'string' }, scan: { type: 'string' }, out: { type: 'string' }, sources: { type: 'boolean', default: false } },
  });
  if (values.main !== undefined) {
    // tools/bench: node tools/bundle-app.mjs --sources --main SRC/main.ts --scan SRC/scan.ts --out DIR
    if (values.out === undefined) {
      console.error('bundle-app: --main needs --out DIR');
      process.exit(2);
    }
    await bundleApp({ main: values.main, scan: values.scan, outDir: values.out, sources: values.sources });
  } else {
    const app = process.cwd();
    const root = path.resolve(path.dirname(self), '..');
    const main = path.join(app, 'dist', 'main.js');
    if (!fs.existsSync(main)) {
      console.error(`bundle-app: ${main} is missing: run tsc first (npm run build in ${app})`);
      process.exit(1);
    }
    await bundleApp({ main, scan: path.join(root, 'packages', 'chunker', 'dist', 'scan.js'), outDir: path.join(app, 'dist', 'bundle') });
  }
}
