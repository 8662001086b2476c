// `convoy daemon`: finding convoy-daemon, passing the arguments through, its exit code, stopping it.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDaemon } from '../src/daemon.js';
import { InterruptedError } from '../src/errors.js';
import { cli } from './helpers.js';

let dir: string;
let fakeDaemon: string;

/** A stand-in for convoy-daemon: prints its arguments, exits with --exit N, or waits for a signal with --wait. */
const FAKE_DAEMON = `
const args = process.argv.slice(2);
console.log(JSON.stringify({ args }));
console.error('fake daemon log line');
const i = args.indexOf('--exit');
if (args.includes('--wait')) {
  const got = [];
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => { got.push(s); console.log('got ' + got.join(',')); setTimeout(() => process.exit(7), 200); });
  console.error('ready');
  setInterval(() => {}, 1000);
} else process.exit(i >= 0 ? Number(args[i + 1]) : 0);
`;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-cli-daemon-'));
  fakeDaemon = path.join(dir, 'fake-daemon.mjs');
  await fs.writeFile(fakeDaemon, FAKE_DAEMON);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('convoy daemon', () => {
  it('passes every argument after `daemon` through, with its output, and exits with its code', async () => {
    const run = await cli(['daemon', '--root', '/var/lib/convoy', '--json', '--help', '--exit', '3'], {
      env: { CONVOY_DAEMON_BIN: fakeDaemon },
    });
    expect(run.code).toBe(3);
    expect(JSON.parse(run.lines[0] ?? '')).toEqual({ args: ['--root', '/var/lib/convoy', '--json', '--help', '--exit', '3'] });
    expect(run.stderr).toBe('fake daemon log line\n');
  });

  it("Rancher Convoy's globals before `daemon` (--socket, -s, --debug, -d, --verbose) are passed on, first", async () => {
    const env = { CONVOY_DAEMON_BIN: fakeDaemon };
    const run = await cli(['--socket', '/run/c.sock', '--debug', 'daemon', '--drivers', 'vfs'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.lines[0] ?? '')).toEqual({ args: ['--socket', '/run/c.sock', '--debug', '--drivers', 'vfs'] });
    const short = await cli(['-s', '/run/d.sock', '-d', '--verbose', 'daemon'], { env });
    expect(JSON.parse(short.lines[0] ?? '')).toEqual({ args: ['--socket', '/run/d.sock', '--debug', '--verbose'] });
    const eq = await cli(['--socket=/run/e.sock', 'daemon', '--root', '/r'], { env });
    expect(JSON.parse(eq.lines[0] ?? '')).toEqual({ args: ['--socket', '/run/e.sock', '--root', '/r'] });
    // anything else before `daemon` is a usage error, and the daemon does not run
    const bad = await cli(['--json', 'daemon'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stdout).not.toContain('"args"');
    expect(bad.stdout).toContain('only --socket, --debug and --verbose may come before `daemon`');
  });

  it('aborting (Ctrl-C in main.ts) sends the daemon that signal and waits for it to exit', async () => {
    const controller = new AbortController();
    const run = await cli(['daemon', '--wait'], {
      env: { CONVOY_DAEMON_BIN: fakeDaemon },
      signal: controller.signal,
      onStderr: (chunk) => {
        if (chunk.includes('ready')) controller.abort(new InterruptedError('SIGINT', 130));
      },
    });
    expect(run.code).toBe(7);
    expect(run.stdout).toContain('got SIGINT\n');
  });

  it('a CONVOY_DAEMON_BIN that does not exist is a clear error, exit 1', async () => {
    const missing = path.join(dir, 'nope.js');
    const run = await cli(['daemon'], { env: { CONVOY_DAEMON_BIN: missing } });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `convoy: CONVOY_DAEMON_BIN names ${missing}, which does not exist\nhint: point CONVOY_DAEMON_BIN at convoy-daemon (its dist/main.js), or unset it\n`,
    );
  });
});

describe('resolveDaemon', () => {
  let tree: string;
  let from: string;
  let pkg: string;
  beforeAll(async () => {
    tree = path.join(dir, 'tree');
    pkg = path.join(tree, 'node_modules', '@convoy', 'daemon');
    from = path.join(tree, 'apps', 'cli', 'dist', 'daemon.js');
    await fs.mkdir(path.join(pkg, 'src'), { recursive: true });
    await fs.mkdir(path.join(pkg, 'bin'), { recursive: true });
    // shaped like apps/daemon: a bin that imports the build
    await fs.writeFile(
      path.join(pkg, 'package.json'),
      JSON.stringify({ name: '@convoy/daemon', bin: { 'convoy-daemon': './bin/convoy-daemon.js' } }),
    );
  });

  it('not installed: says so and how to fix it', () => {
    expect(() => resolveDaemon({ env: {}, from: path.join(dir, 'elsewhere', 'x.js') })).toThrow(
      expect.objectContaining({
        code: 'CONVOY_DAEMON_NOT_FOUND',
        message: expect.stringContaining('not installed'),
        hint: expect.stringContaining('CONVOY_DAEMON_BIN'),
      }),
    );
  });

  it('installed but not built: says which file is missing and how to build it', async () => {
    expect(() => resolveDaemon({ env: {}, from, fromSource: false })).toThrow(
      expect.objectContaining({
        code: 'CONVOY_DAEMON_NOT_FOUND',
        message: expect.stringContaining(path.join(pkg, 'bin', 'convoy-daemon.js')),
        hint: expect.stringContaining('nx build @convoy/daemon'),
      }),
    );
    await fs.writeFile(path.join(pkg, 'bin', 'convoy-daemon.js'), "import '../dist/main.js';\n");
    expect(() => resolveDaemon({ env: {}, from, fromSource: false })).toThrow(
      expect.objectContaining({ message: `convoy-daemon is not built: ${path.join(pkg, 'dist')} does not exist` }),
    );
  });

  it('built: its bin under this Node', async () => {
    await fs.mkdir(path.join(pkg, 'dist'), { recursive: true });
    await fs.writeFile(path.join(pkg, 'dist', 'main.js'), '');
    expect(resolveDaemon({ env: {}, from, fromSource: false })).toEqual({
      command: process.execPath,
      args: [path.join(pkg, 'bin', 'convoy-daemon.js')],
    });
  });

  it("from sources: the daemon's src/main.ts with this Node's flags", async () => {
    await fs.writeFile(path.join(pkg, 'src', 'main.ts'), '');
    expect(resolveDaemon({ env: {}, from, fromSource: true })).toEqual({
      command: process.execPath,
      args: [...process.execArgv, path.join(pkg, 'src', 'main.ts')],
    });
  });

  it('CONVOY_DAEMON_BIN wins; a file that is not JavaScript is executed itself', async () => {
    const exe = path.join(dir, 'convoy-daemon');
    await fs.writeFile(exe, '#!/bin/sh\n', { mode: 0o755 });
    expect(resolveDaemon({ env: { CONVOY_DAEMON_BIN: exe }, from })).toEqual({ command: exe, args: [] });
    expect(resolveDaemon({ env: { CONVOY_DAEMON_BIN: fakeDaemon }, from })).toEqual({ command: process.execPath, args: [fakeDaemon] });
  });
});
