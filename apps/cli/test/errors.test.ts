// What convoy prints and how it exits when something is wrong: usage errors (exit 2, nothing
// sent), daemon errors (exit 1, the daemon's message and hint), the daemon not running.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeDaemon } from '@convoy/control-api/testing';
import { cli, lastJson, type ErrorJson, useFakeDaemon } from './helpers.js';

let daemon: FakeDaemon;
let env: Record<string, string>;

useFakeDaemon((d) => {
  daemon = d;
  env = { CONVOY_SOCKET: d.socketPath };
});

describe('usage errors: exit 2, nothing sent to the daemon', () => {
  it.each([
    [[], /name a command/],
    [['lsit'], /unknown command "lsit". Did you mean list\?/],
    [['delete'], /Not enough non-option arguments/],
    [['create', 'db', '--bogus'], /Unknown argument: bogus/],
    [['create', 'bad name'], /invalid volume name "bad name"/],
    [['create', '-db'], /./],
    [['create', 'a..b'], /invalid volume name/],
    [['create', 'db', '--size', 'huge'], /invalid size "huge"/],
    [['create', 'db', '--opt', 'novalue'], /invalid --opt "novalue"/],
    [['create', 'db', '--opt', 'a=1', '--opt', 'a=2'], /--opt a is given twice/],
    [['create', 'db', '--backup', 'vfs:///mnt/bk'], /does not name a backup/],
    [['create', 'db', '--driver', 'a', '--driver', 'b'], /--driver is given more than once/],
    [['mount', 'db', '--mountpoint', 'relative/dir'], /absolute path/],
    [['snapshot'], /Not enough non-option arguments|name a snapshot command/],
    [['snapshot', 'create', 'db', '--name', 'x y'], /invalid snapshot name/],
    [['snapshot', 'remove', 'x'], /Unknown argument|Did you mean/],
    [['backup', 'create', 'nightly-1'], /Missing required argument: dest/],
    [['backup', 'create', 'nightly-1', '--dest', 'ftp://h/x'], /unsupported destination scheme "ftp:"/],
    [['backup', 'create', 'nightly-1', '--dest', 'not a url'], /invalid destination/],
    [['backup', 'create', 'nightly-1', '--dest', 'vfs:///b', '--label', '=v'], /invalid --label/],
    [['backup', 'delete', 'vfs:///mnt/bk'], /does not name a backup/],
    [['backup', 'list'], /Not enough non-option arguments/],
    [['info', '--socket'], /Not enough arguments following: socket/],
  ])('%j', async (args, message) => {
    const run = await cli(args, { env });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^convoy: /);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/\nhint: /);
    expect(daemon.requests).toHaveLength(0);
  });

  it('with --json the usage error is a JSON object on stdout', async () => {
    const run = await cli(['create', 'bad name', '--json'], { env });
    expect(run.code).toBe(2);
    expect(lastJson<ErrorJson>(run).error).toMatchObject({
      code: 'CONVOY_USAGE',
      message: 'invalid volume name "bad name"',
      hint: expect.any(String),
    });
    expect(run.stderr).toBe('');
  });

  it('a daemon error whose code says the request is invalid also exits 2', async () => {
    daemon.on('POST', '/v1/volumes', {
      status: 400,
      error: { code: 'CONVOY_INVALID_ARGUMENT', message: 'driver vfs takes no size', hint: 'drop --size' },
    });
    const run = await cli(['create', 'db', '--size', '1G'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('convoy: driver vfs takes no size\nhint: drop --size\n');
  });
});

describe("daemon errors: exit 1 with the daemon's message and hint", () => {
  it('human: `convoy: <message>` and `hint: <hint>` on stderr, nothing on stdout', async () => {
    daemon.on('DELETE', '/v1/volumes/:name', {
      status: 409,
      error: { code: 'CONVOY_VOLUME_IN_USE', message: 'volume db is mounted on host b', hint: 'unmount it there first' },
    });
    const run = await cli(['delete', 'db'], { env });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('convoy: volume db is mounted on host b\nhint: unmount it there first\n');
  });

  it('--json: {"error":{code,message,hint}} as the last stdout line', async () => {
    daemon.on('GET', '/v1/volumes/:name', {
      status: 404,
      error: { code: 'CONVOY_VOLUME_NOT_FOUND', message: 'volume nope does not exist', hint: 'convoy list shows the volumes' },
    });
    const run = await cli(['inspect', 'nope', '--json'], { env });
    expect(run.code).toBe(1);
    expect(lastJson<ErrorJson>(run)).toEqual({
      error: { code: 'CONVOY_VOLUME_NOT_FOUND', message: 'volume nope does not exist', hint: 'convoy list shows the volumes' },
    });
    expect(run.stderr).toBe('');
  });
});

describe('the daemon is not running', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-cli-test-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('says so, with how to start it and the socket path; exit 1', async () => {
    const socket = path.join(dir, 'convoy.sock');
    const run = await cli(['list'], { env: { CONVOY_SOCKET: socket } });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `convoy: cannot connect to convoy-daemon at ${socket}: no such socket (ENOENT)\n` +
        `hint: is convoy-daemon running? start it with \`convoy daemon\` or \`systemctl start convoy\`; socket: ${socket}\n`,
    );
    const json = await cli(['list', '--json', '--socket', socket]);
    expect(json.code).toBe(1);
    expect(lastJson<ErrorJson>(json).error.code).toBe('CONVOY_DAEMON_UNREACHABLE');
  });

  it('without --socket or CONVOY_SOCKET the default socket is used', async () => {
    const run = await cli(['info', '--json']);
    expect(run.code).toBe(1);
    expect(lastJson<ErrorJson>(run).error.hint).toContain('socket: /var/run/convoy/convoy.sock');
  });
});

describe('help, version, completion', () => {
  it.each([
    ['info'],
    ['create'],
    ['delete'],
    ['mount'],
    ['umount'],
    ['list'],
    ['inspect'],
    ['daemon'],
    ['snapshot'],
    ['snapshot', 'create'],
    ['snapshot', 'delete'],
    ['snapshot', 'inspect'],
    ['snapshot', 'list'],
    ['backup'],
    ['backup', 'create'],
    ['backup', 'delete'],
    ['backup', 'inspect'],
    ['backup', 'list'],
  ])('%s --help shows usage and examples', async (...command) => {
    const args = command[0] === 'daemon' ? ['--help', 'daemon'] : [...command, '--help'];
    const run = await cli(args);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`convoy ${command.join(' ')}`);
    expect(run.stdout).toContain('Examples:');
    expect(daemon.requests).toHaveLength(0);
  });

  it('--help lists every command; --version prints the version', async () => {
    const help = await cli(['--help']);
    for (const c of ['daemon', 'info', 'create', 'delete', 'mount', 'umount', 'list', 'inspect', 'snapshot', 'backup', 'completion'])
      expect(help.stdout).toContain(`convoy ${c}`);
    expect(help.stdout).toContain('Exit codes: 0 ok, 1 operation failed, 2 usage error');
    const version = await cli(['--version']);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it("completion prints a shell script; the script's queries are answered", async () => {
    const script = await cli(['completion']);
    expect(script.code).toBe(0);
    expect(script.stdout).toContain('complete -o bashdefault -o default -F _convoy_yargs_completions convoy');
    const top = await cli(['--get-yargs-completions', 'convoy', '']);
    expect(top.lines).toEqual(expect.arrayContaining(['create', 'snapshot', 'backup', 'daemon']));
    const sub = await cli(['--get-yargs-completions', 'convoy', 'backup', '']);
    expect(sub.lines).toEqual(['create', 'delete', 'inspect', 'list', 'schedule', 'schedules', 'unschedule']);
    const flags = await cli(['--get-yargs-completions', 'convoy', 'backup', 'create', 'snap', '--']);
    expect(flags.lines).toEqual(expect.arrayContaining(['--dest', '--label', '--socket', '--json']));
  });
});
