// The configuration saved under --root: a restart with other flags, or none, never silently shows
// another set of volumes.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../tools/vitest/project-defaults.js';
import { parseDaemonArgs } from './args.js';
import { DEFAULTS, SAVED_CONFIG_FILE, hostIdOf, withDriverLocations } from './config.js';
import { startDaemon } from './daemon.js';
import type { Logger } from './logger.js';
import { logConfigPlan, planConfig } from './saved-config.js';

let tmp: string;
const timers = { now: () => Date.now(), setTimeout: () => 0, clearTimeout: () => undefined };

/** A logger whose lines a test reads. */
function capture(): { log: Logger; lines: () => { level: number; msg: string; [k: string]: unknown }[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    log: pino<never>({ level: 'info' }, stream),
    lines: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { level: number; msg: string }),
  };
}

/** One start as main.ts does it: flags → saved configuration → startDaemon; returns its log lines and volume names. */
async function start(argv: string[]) {
  const plan = await planConfig(await parseDaemonArgs(argv));
  const { log, lines } = capture();
  logConfigPlan(log, plan);
  const daemon = await startDaemon(plan.config, log, { timers, saveConfig: plan.save });
  try {
    const names = (await daemon.manager.list()).volumes.map((v) => v.name).sort();
    return { plan, lines: lines(), names };
  } finally {
    await daemon.close();
  }
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-saved-config-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('the saved configuration', () => {
  const root = (): string => path.join(tmp, 'root');
  const custom = (): string => path.join(tmp, 'nfs', 'convoy');
  const first = (): string[] => [
    '--root',
    root(),
    '--driver-opts',
    `vfs.path=${custom()}`,
    '--host-id',
    'node-a',
    '--plugin-socket',
    path.join(tmp, 'p.sock'),
    '--socket',
    path.join(tmp, 'c.sock'),
    '--log-level',
    'info',
  ];

  it('the first start saves it (the vfs path written out), and the ready line names each driver and its path', async () => {
    const r = await start(first());
    expect(r.plan.source).toBe('first-start');
    const saved = JSON.parse(await fs.readFile(path.join(root(), SAVED_CONFIG_FILE), 'utf8')) as {
      version: number;
      config: Record<string, unknown>;
    };
    expect(saved).toMatchObject({
      version: 1,
      config: {
        root: root(),
        drivers: ['vfs'],
        driverOpts: { 'vfs.path': custom() },
        hostId: 'node-a',
        pluginSocket: path.join(tmp, 'p.sock'),
      },
    });
    expect((await fs.stat(path.join(root(), SAVED_CONFIG_FILE))).mode & 0o777).toBe(0o600);
    expect(r.lines.map((l) => l.msg)).toContain('first start: the configuration is saved for the next starts');
    const ready = r.lines.find((l) => l.msg === 'convoy-daemon ready');
    expect(ready).toMatchObject({ drivers: { vfs: custom() }, host: 'node-a', root: root() });
  });

  it('a restart with only --root keeps every volume, and says it used the saved configuration', async () => {
    // volumes made through a running daemon…
    const made = await planConfig(await parseDaemonArgs(first()));
    const d = await startDaemon(made.config, capture().log, { timers, saveConfig: made.save });
    for (const name of ['v1', 'v2', 'v3']) await d.manager.create({ name, caller: 'cli', options: {} });
    await d.close();
    // …are all there after a start given nothing but the root
    const r = await start(['--root', root()]);
    expect(r.plan.source).toBe('saved');
    expect(r.names).toEqual(['v1', 'v2', 'v3']);
    expect(r.lines.find((l) => l.msg === 'using the saved configuration')).toMatchObject({ file: path.join(root(), SAVED_CONFIG_FILE) });
    expect(r.plan.config).toMatchObject({
      hostId: 'node-a',
      pluginSocket: path.join(tmp, 'p.sock'),
      controlSocket: path.join(tmp, 'c.sock'),
    });
  });

  it('a start with another vfs.path is refused, naming both paths and --reconfigure; nothing changes', async () => {
    const before = await fs.readFile(path.join(root(), SAVED_CONFIG_FILE), 'utf8');
    const other = path.join(tmp, 'elsewhere');
    const err = await planConfig(await parseDaemonArgs(['--root', root(), '--driver-opts', `vfs.path=${other}`])).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'CONVOY_CONFIG_CONFLICT',
      message: `--driver-opts vfs.path is ${other} here but ${custom()} in the saved configuration (${path.join(root(), SAVED_CONFIG_FILE)}): starting would show another set of volumes`,
      hint: expect.stringContaining('--reconfigure'),
    });
    const host = await planConfig(await parseDaemonArgs(['--root', root(), '--host-id', 'node-b', '--drivers', 'vfs,devicemapper'])).catch(
      (e: unknown) => e,
    );
    expect(host).toMatchObject({
      code: 'CONVOY_CONFIG_CONFLICT',
      message: expect.stringMatching(/--drivers is vfs,devicemapper here but vfs .*; --host-id is node-b here but node-a/),
    });
    expect(await fs.readFile(path.join(root(), SAVED_CONFIG_FILE), 'utf8')).toBe(before);
  });

  it('the running daemon refuses too: exit 2 and the message on stderr', async () => {
    const other = path.join(tmp, 'elsewhere');
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const argv = [
        '--conditions=@convoy/source',
        '--import',
        './tools/source-resolve.ts',
        'apps/daemon/src/main.ts',
        '--root',
        root(),
        '--driver-opts',
        `vfs.path=${other}`,
      ];
      const child = execFile(process.execPath, argv, { cwd: REPO_ROOT }, (_err, _out, stderr) => resolve({ code: child.exitCode, stderr }));
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(
        `^convoy-daemon: --driver-opts vfs.path is ${other} here but ${custom()} in the saved configuration .*\nhint: .*--reconfigure\n$`,
      ),
    );
  });

  it('other values (log level, sockets) are taken and saved; --reconfigure replaces the vfs path, with a warning', async () => {
    const r = await start(['--root', root(), '--log-level', 'warn']);
    expect(r.plan.source).toBe('updated');
    expect(r.plan.changes).toEqual([{ key: 'logLevel', from: 'info', to: 'warn' }]);
    expect((await planConfig(await parseDaemonArgs(['--root', root()]))).config.logLevel).toBe('warn');
    const other = path.join(tmp, 'elsewhere');
    const re = await start(['--root', root(), '--driver-opts', `vfs.path=${other}`, '--reconfigure']);
    expect(re.names).toEqual([]);
    expect(re.lines.find((l) => l.msg.startsWith('using the saved configuration with'))).toMatchObject({
      level: 40,
      changes: [{ key: 'driverOpts.vfs.path', from: custom(), to: other }],
    });
    expect((await planConfig(await parseDaemonArgs(['--root', root()]))).config.driverOpts['vfs.path']).toBe(other);
  });

  it('a damaged saved configuration is an error naming the file, never "absent"', async () => {
    const r2 = path.join(tmp, 'root-damaged');
    await fs.mkdir(r2);
    for (const text of [
      '{"version": 1, "savedAt": "x", "config": {',
      JSON.stringify({ version: 1, savedAt: 'x', config: { root: r2 } }),
      '[]',
    ]) {
      await fs.writeFile(path.join(r2, SAVED_CONFIG_FILE), text);
      await expect(planConfig(await parseDaemonArgs(['--root', r2]))).rejects.toMatchObject({
        code: 'CONVOY_STATE_INVALID',
        message: expect.stringContaining(path.join(r2, SAVED_CONFIG_FILE)),
        hint: expect.stringContaining('move it away'),
      });
    }
  });

  it('the example config (deploy/convoy.json) holds the defaults', async () => {
    const example = JSON.parse(await fs.readFile(new URL('../deploy/convoy.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const defaults = withDriverLocations(DEFAULTS) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(example)) expect(v, k).toEqual(defaults[k]);
  });

  it("devicemapper's directory is pinned in dm.root: Rancher Convoy's <root>/devicemapper when it holds Convoy's pool and ours is empty", async () => {
    const r = await fs.mkdtemp(path.join(os.tmpdir(), 'convoy-dmroot-'));
    const dm = (c: { driverOpts: Record<string, string> }): string | undefined => c.driverOpts['dm.root'];
    const config = { ...DEFAULTS, root: r, drivers: ['devicemapper'] };
    expect(dm(withDriverLocations(config))).toBe(path.join(r, 'drivers', 'devicemapper'));
    await fs.mkdir(path.join(r, 'devicemapper'));
    await fs.writeFile(path.join(r, 'devicemapper', 'devicemapper.cfg'), '{}');
    expect(dm(withDriverLocations(config))).toBe(path.join(r, 'devicemapper'));
    await fs.mkdir(path.join(r, 'drivers', 'devicemapper'), { recursive: true });
    await fs.writeFile(path.join(r, 'drivers', 'devicemapper', 'state.json'), '{}');
    expect(dm(withDriverLocations(config))).toBe(path.join(r, 'drivers', 'devicemapper')); // ours exists: never switch
    expect(dm(withDriverLocations({ ...config, driverOpts: { 'dm.root': '/elsewhere' } }))).toBe('/elsewhere');
    expect(withDriverLocations({ ...DEFAULTS, root: r }).driverOpts['dm.root']).toBeUndefined();
    await fs.rm(r, { recursive: true, force: true });
  });

  it('the default host id is the hostname, made valid when it is not (a guest without one says "(none)")', () => {
    expect(hostIdOf('web-01.example.com')).toBe('web-01.example.com');
    expect(hostIdOf('(none)')).toBe('none');
    expect(hostIdOf('')).toBe('localhost');
    expect(hostIdOf('-x y!')).toBe('x-y');
    expect(hostIdOf('a'.repeat(80))).toHaveLength(63);
  });
});
