// A frozen copy of Convoy's TypeScript sources for one benchmark run. Other people edit packages/
// and apps/ while a run (minutes) is under way; without a copy, the steps of one run could measure
// different code, or fail half-way on a half-finished edit. The copy resolves third-party packages
// through symlinks into the repository's node_modules, and @convoy/* to the copied packages. The
// convoy-backup CLI is also bundled from the copy, as its build bundles it (tools/bundle-app.mjs):
// the bench measures what users run.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(BENCH_DIR, '../..');

export interface SourceSnapshot {
  /** Root of the copy: packages/, apps/, tools/ (the runner), node_modules/. */
  root: string;
  /** backup-convoy-runner.ts and source-resolve.ts in the copy. */
  runner: string;
  sourceResolve: string;
  /** apps/backup/src/main.ts in the copy (absent if the repository has no CLI). */
  cliMain: string;
  /** bundle/main.js in the copy: the CLI bundled from the copied sources. */
  cliBundle: string;
  /** `git describe`-like note of what was copied: commit and uncommitted changes under packages/ and apps/. */
  revision: string;
}

/** Copies the workspace packages (and apps/backup) that node_modules/@convoy links to. */
export async function snapshotSources(dest: string): Promise<SourceSnapshot> {
  const modules = path.join(REPO_ROOT, 'node_modules');
  await mkdir(path.join(dest, 'node_modules', '@convoy'), { recursive: true });
  for (const name of await readdir(modules)) {
    if (name === '@convoy') continue;
    await symlink(path.join(modules, name), path.join(dest, 'node_modules', name));
  }
  for (const name of await readdir(path.join(modules, '@convoy'))) {
    const target = path.resolve(path.join(modules, '@convoy'), await readlink(path.join(modules, '@convoy', name)));
    const rel = path.relative(REPO_ROOT, target);
    if (!rel.startsWith(`packages${path.sep}`) && rel !== path.join('apps', 'backup')) continue; // libraries and the backup CLI only
    const copy = path.join(dest, rel);
    await copyPackage(target, copy);
    await symlink(copy, path.join(dest, 'node_modules', '@convoy', name));
  }
  await mkdir(path.join(dest, 'tools'), { recursive: true });
  const runner = path.join(dest, 'tools', 'backup-convoy-runner.ts');
  const sourceResolve = path.join(dest, 'tools', 'source-resolve.ts');
  await cp(path.join(BENCH_DIR, 'backup-convoy-runner.ts'), runner);
  await cp(path.join(BENCH_DIR, '..', 'source-resolve.ts'), sourceResolve);
  const cliMain = path.join(dest, 'apps', 'backup', 'src', 'main.ts');
  const outDir = path.join(dest, 'bundle');
  const scan = path.join(dest, 'packages', 'chunker', 'src', 'scan.ts');
  execFileSync(
    process.execPath,
    [path.join(REPO_ROOT, 'tools', 'bundle-app.mjs'), '--sources', '--main', cliMain, '--scan', scan, '--out', outDir],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return { root: dest, runner, sourceResolve, cliMain, cliBundle: path.join(outDir, 'main.js'), revision: revision() };
}

/** The package's files without build output; its own node_modules (if any) as a symlink to the original. */
async function copyPackage(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.name === 'node_modules') await symlink(src, dst);
    else if (entry.name === 'dist' || entry.name === '.nx') continue;
    else await cp(src, dst, { recursive: true, verbatimSymlinks: true });
  }
}

function revision(): string {
  try {
    const git = (args: string[]): string =>
      execFileSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git(['rev-parse', '--short', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--', 'packages', 'apps/backup'])
      .split('\n')
      .filter((l) => l !== '').length;
    return dirty === 0 ? head : `${head} + ${dirty} uncommitted changes under packages/ and apps/backup`;
  } catch {
    return 'unknown (no git)';
  }
}
