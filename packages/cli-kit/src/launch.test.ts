// bin/launch.cjs, the start of every convoy bin: under an old `node` first on PATH, the bin runs on
// the pinned Node (or says in one line which Node it needs); signals and exit codes pass through.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oldNodeOnPath, type OldNode } from './testing/old-node.js';

const LAUNCH = fileURLToPath(new URL('../bin/launch.cjs', import.meta.url));
const launcher = createRequire(import.meta.url)(LAUNCH) as { MINIMUM: string; supported(v: string): boolean };

let dir: string;
let old: OldNode;

/** A bin like convoy's: bin/fx.cjs (through the launcher) → dist/main.mjs, under `root`. */
async function fixtureApp(root: string): Promise<string> {
  await fs.mkdir(path.join(root, 'app', 'bin'), { recursive: true });
  await fs.mkdir(path.join(root, 'app', 'dist'), { recursive: true });
  const bin = path.join(root, 'app', 'bin', 'fx.cjs');
  await fs.writeFile(
    bin,
    `#!/usr/bin/env node\nrequire(${JSON.stringify(LAUNCH)}).launch('fx', __filename, require('path').join(__dirname, '..', 'dist', 'main.mjs'));\n`,
    { mode: 0o755 },
  );
  await fs.writeFile(
    path.join(root, 'app', 'dist', 'main.mjs'),
    `const [cmd, arg] = process.argv.slice(2);
     console.log(JSON.stringify({ node: process.versions.node, execPath: process.execPath, args: process.argv.slice(2) }));
     if (cmd === 'exit') process.exit(Number(arg));
     if (cmd === 'wait') {
       process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(7); });
       setInterval(() => {}, 1000);
       console.log('ready');
     }\n`,
  );
  return bin;
}

function run(bin: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(bin, args, { env: { PATH: `${old.dir}:${process.env.PATH ?? ''}`, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done, stdout: () => stdout };
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-launch-test-'));
  old = await oldNodeOnPath(path.join(dir, 'old-node'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('the bins launcher', () => {
  it('needs the Node the root package.json names in engines', async () => {
    const pkg = JSON.parse(await fs.readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${launcher.MINIMUM}`);
    expect([
      launcher.supported('22.15.0'),
      launcher.supported('v24.1.0'),
      launcher.supported('22.14.9'),
      launcher.supported('20.20.2'),
    ]).toEqual([true, true, false, false]);
  });

  it(`under an old node first on PATH, the bin runs on the pinned node_modules/node/bin/node with its arguments and exit code`, async () => {
    const root = path.join(dir, 'pinned');
    const bin = await fixtureApp(root);
    await fs.mkdir(path.join(root, 'node_modules', 'node', 'bin'), { recursive: true });
    await fs.symlink(process.execPath, path.join(root, 'node_modules', 'node', 'bin', 'node'));
    const r = await run(bin, ['exit', '3', '--flag=a b']).done;
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout.split('\n')[0] ?? '')).toEqual({
      node: process.versions.node,
      execPath: process.execPath,
      args: ['exit', '3', '--flag=a b'],
    });
    expect(process.versions.node).not.toBe(old.version);
  });

  it('through a symlink (node_modules/.bin, /usr/bin), the pinned Node is found next to the real file', async () => {
    const bin = path.join(dir, 'pinned', 'app', 'bin', 'fx.cjs');
    const link = path.join(dir, 'link-to-fx');
    await fs.symlink(bin, link);
    const r = await run(link, ['exit', '0']).done;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.split('\n')[0] ?? '')).toMatchObject({ node: process.versions.node });
  });

  it('SIGTERM to the launcher reaches the bin once, and its exit code comes back', async () => {
    const p = run(path.join(dir, 'pinned', 'app', 'bin', 'fx.cjs'), ['wait']);
    await expect.poll(() => p.stdout().includes('ready'), { timeout: 20_000 }).toBe(true);
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code).toBe(7);
    expect(r.stdout.match(/got SIGTERM/g)).toHaveLength(1);
  });

  it('without a pinned Node: one line naming the Node it needs and how to get it, exit 1', async () => {
    const bin = await fixtureApp(path.join(dir, 'unpinned'));
    const r = await run(bin, ['exit', '0']).done;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^fx: needs Node\\.js >= 22\\.15, but \\S+ is v${old.version.replace(/\./g, '\\.')} .*npm ci.*tools/install\\.sh.*CONVOY_NODE=`,
      ),
    );
  });

  it('a pinned Node that is itself too old (CONVOY_NODE): one line, no loop', async () => {
    const r = await run(path.join(dir, 'unpinned', 'app', 'bin', 'fx.cjs'), ['exit', '0'], { CONVOY_NODE: path.join(old.dir, 'node') })
      .done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^fx: needs Node\.js >= 22\.15, but the pinned Node \S+ is v[\d.]+: run `npm ci`/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
