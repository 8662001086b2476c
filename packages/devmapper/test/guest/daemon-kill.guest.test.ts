// convoy-daemon with --drivers devicemapper, killed with SIGKILL at every step of an operation on a
// real thin pool (dm guest), then restarted on the same root and pool: the pool's thin devices and
// the driver's records must agree (no orphan thin device, no record pointing at nothing), what
// completed before the kill is intact (data written into the mounted volume reads back), and the
// interrupted operation is either absent or complete — and can be run again.
//
// The steps are deterministic (dm-kill-hook.ts, preloaded into the daemon): every mutating
// device-mapper ioctl, program started and filesystem change under the daemon's root. A traced run
// of each operation enumerates its steps; then the operation is run again and killed just before
// a step: always before each of the operation's key steps (its commit points: the pool message,
// the state write after it, the mount), and before EXTRA more steps drawn with a seeded PRNG
// (CONVOY_DMKILL_EXTRA, default 0; CONVOY_DMKILL_SEED, default 20261202) — every step with
// CONVOY_DMKILL_ALL=1 (~25 s a step under TCG: a daemon start loads ~800 modules over 9p). This
// test spawns the built daemon (apps/daemon/dist: `npx nx run-many -t build`, done before the
// dm-guest stage of tools/test-all.sh) as a child process; it imports nothing from apps or tools.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import { request } from 'node:http';
import { stripTypeScriptTypes } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiB, assertInGuest, resetDeviceMapper, scratch } from './guest-helpers.js';

const REPO = path.resolve(import.meta.dirname, '../../../..');
const BIN = path.join(REPO, 'apps/daemon/bin/convoy-daemon.cjs');
const HOOK = path.join(import.meta.dirname, 'dm-kill-hook.ts');
const POOL = 'guest-kill';
const READY = '"msg":"convoy-daemon ready"';
/** Generous: a start takes ~20 s under TCG, several times that on a loaded host. */
const START_TIMEOUT_MS = 300_000;
const SEED = Number(process.env.CONVOY_DMKILL_SEED ?? 20261202);
const EXTRA = Number(process.env.CONVOY_DMKILL_EXTRA ?? 0);
const ALL = process.env.CONVOY_DMKILL_ALL === '1';

/** mulberry32: the seeded choice of extra kill steps. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Reply {
  /** HTTP status, or 0 when no answer came (the daemon died). */
  status: number;
  json: unknown;
  text: string;
}

/** One control API request over the unix socket; a daemon that dies answers status 0. */
function call(socketPath: string, method: string, target: string, body?: unknown): Promise<Reply> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve) => {
    const req = request(
      {
        socketPath,
        method,
        path: target,
        headers: {
          Host: 'localhost',
          ...(payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', () => resolve({ status: 0, json: undefined, text: '' }));
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text) as unknown;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    req.once('error', () => resolve({ status: 0, json: undefined, text: '' }));
    req.end(payload);
  });
}

/** The built convoy-daemon as a process-group leader, with dm-kill-hook.ts preloaded. */
class Daemon {
  readonly dir: string;
  readonly root: string;
  /** dm-kill-hook.ts with its types stripped once (Node would load amaro for it at every start). */
  readonly hook: string;
  #child: ChildProcess | undefined;
  #exit: Promise<NodeJS.Signals | number | null> = Promise.resolve(null);
  #log = '';
  #waiters: (() => void)[] = [];
  starts = 0;
  /** How long the last start took (node and its modules; then the drivers' start). */
  startTimes = '';

  constructor(dir: string) {
    this.dir = dir;
    this.root = path.join(dir, 'root');
    this.hook = path.join(dir, 'dm-kill-hook.mjs');
  }

  get control(): string {
    return path.join(this.dir, 'ctl.sock');
  }

  get log(): string {
    return this.#log;
  }

  /** How the current (or last) run ended: its signal, or its exit code. */
  get exited(): Promise<NodeJS.Signals | number | null> {
    return this.#exit;
  }

  async start(): Promise<void> {
    if (!existsSync(this.hook)) await fs.writeFile(this.hook, stripTypeScriptTypes(await fs.readFile(HOOK, 'utf8')));
    for (const s of ['ctl.sock', 'plugin.sock']) await fs.rm(path.join(this.dir, s), { force: true });
    this.#log = '';
    this.starts++;
    const args = [
      '--import',
      this.hook,
      BIN,
      ...['--root', this.root, '--drivers', 'devicemapper', '--host-id', 'guest'],
      ...['--driver-opts', `dm.thinpoolname=${POOL}`, '--driver-opts', 'dm.loopdatasize=512M'],
      ...['--driver-opts', 'dm.loopmetadatasize=16M', '--driver-opts', 'dm.defaultvolumesize=32M'],
      ...['--plugin-socket', path.join(this.dir, 'plugin.sock'), '--socket', this.control],
      ...['--maintenance-interval', 'off', '--full-maintenance-interval', 'off', '--log-level', 'info'],
    ];
    const child = spawn(process.execPath, args, {
      cwd: REPO,
      env: {
        ...process.env,
        CONVOY_DMKILL_ROOT: this.root,
        CONVOY_DMKILL_PLAN: path.join(this.dir, 'plan.json'),
        // V8's code cache of the daemon's modules, kept across its restarts: a start takes half as long under TCG
        NODE_COMPILE_CACHE: path.join(this.dir, 'compile-cache'),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    this.#child = child;
    this.#exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    const spawned = performance.now();
    let firstLine: number | undefined;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('"level"')) firstLine ??= performance.now();
      this.#log += chunk;
      for (const w of this.#waiters.splice(0)) w();
    });
    await this.#until(() => this.#log.includes(READY), 'ready');
    this.startTimes = `${Math.round((firstLine ?? 0) - spawned)} ms to its first log record, ${Math.round(performance.now() - spawned)} ms to ready`;
  }

  /** Resolves once `cond` holds on the log; rejects if the daemon exits first or after the deadline. */
  #until(cond: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`daemon not ${what} after ${START_TIMEOUT_MS} ms:\n${this.#log.slice(-3000)}`)),
        START_TIMEOUT_MS,
      );
      const check = (): void => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else this.#waiters.push(check);
      };
      check();
      void this.#exit.then((how) => {
        clearTimeout(timer);
        reject(new Error(`daemon exited (${String(how)}) before it was ${what}:\n${this.#log.slice(-3000)}`));
      });
    });
  }

  /** Arms the hook: die just before step `step` (null: count only). Steps are told from here on. */
  async arm(step: number | null): Promise<void> {
    await fs.writeFile(path.join(this.dir, 'plan.json'), JSON.stringify({ step }));
    const from = this.#log.length;
    process.kill(this.#pid(), 'SIGUSR2');
    await this.#until(() => this.#log.slice(from).includes('dm-kill-hook: armed'), 'armed');
  }

  /** The steps told since the hook was last armed. */
  steps(): string[] {
    const armedAt = this.#log.lastIndexOf('dm-kill-hook: armed');
    return [...this.#log.slice(armedAt).matchAll(/^dm-kill-hook: step \d+ (.*)$/gm)].map((m) => m[1] as string);
  }

  killedAt(): number | undefined {
    const m = /^dm-kill-hook: kill at step (\d+)$/m.exec(this.#log);
    return m === null ? undefined : Number(m[1]);
  }

  /** Stops it for good at the end (SIGKILL of its group, as the hook does). */
  async kill(): Promise<void> {
    if (this.#child?.exitCode === null && this.#child.signalCode === null) process.kill(-this.#pid(), 'SIGKILL');
    await this.#exit;
  }

  #pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error('daemon not started');
    return pid;
  }

  api(method: string, target: string, body?: unknown): Promise<Reply> {
    return call(this.control, method, target, body);
  }

  /** An API call that must succeed. */
  async ok(method: string, target: string, body?: unknown): Promise<unknown> {
    const r = await this.api(method, target, body);
    if (r.status !== 200) throw new Error(`${method} ${target} → ${r.status} ${r.text}\n${this.#log.slice(-2000)}`);
    return r.json;
  }
}

interface StateFile {
  volumes: Record<string, { deviceId: number; mountpoint?: string; snapshots: Record<string, { deviceId: number }> }>;
  pending: unknown[];
}

/** The thin device ids the pool holds: thin_ls on a metadata snapshot, as the driver lists them. */
function poolThinIds(root: string): number[] {
  const meta = /^(\/dev\/loop\d+):/.exec(
    execFileSync('losetup', ['-j', path.join(root, 'drivers', 'devicemapper', 'metadata')]).toString(),
  )?.[1];
  if (meta === undefined) throw new Error('the pool metadata loop device is not attached');
  execFileSync('dmsetup', ['message', POOL, '0', 'reserve_metadata_snap']);
  try {
    return execFileSync('thin_ls', ['-m', '--no-headers', '-o', 'DEV', meta])
      .toString()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number)
      .sort((a, b) => a - b);
  } finally {
    execFileSync('dmsetup', ['message', POOL, '0', 'release_metadata_snap']);
  }
}

/** dm devices of this pool's volumes and snapshots: name → suspended. */
function dmDevices(): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const line of execFileSync('dmsetup', ['info', '-c', '--noheadings', '-o', 'name,suspended', '--separator', ' '])
    .toString()
    .split('\n')) {
    const [name, state] = line.trim().split(' ');
    if (name !== undefined && name.startsWith(`${POOL}-`)) out.set(name, state === 'Suspended');
  }
  return out;
}

let dir: string;
let d: Daemon;
const kept = randomBytes(3 * MiB + 17);
let keptMountpoint: string;

async function readState(): Promise<StateFile> {
  return JSON.parse(await fs.readFile(path.join(d.root, 'drivers', 'devicemapper', 'state.json'), 'utf8')) as StateFile;
}

/**
 * After a restart: nothing pending, the pool's thin ids exactly the records' ids, no device of the
 * pool suspended or left active without a volume, the API listing the recorded volumes, and the
 * volume `keep` (mounted, written before any kill) and its snapshot `base` intact.
 */
async function expectConsistent(where: string): Promise<StateFile> {
  const st = await readState();
  expect(st.pending, `${where}: journal settled`).toEqual([]);
  const recorded = Object.values(st.volumes)
    .flatMap((v) => [v.deviceId, ...Object.values(v.snapshots).map((s) => s.deviceId)])
    .sort((a, b) => a - b);
  expect(poolThinIds(d.root), `${where}: thin devices in the pool = ids the records hold`).toEqual(recorded);
  const volumeIds = new Set(Object.values(st.volumes).map((v) => v.deviceId));
  for (const [name, suspended] of dmDevices()) {
    if (name === POOL) continue;
    expect(suspended, `${where}: ${name} suspended`).toBe(false);
    expect(
      name.startsWith(`${POOL}-vol-`) && volumeIds.has(Number(name.slice(`${POOL}-vol-`.length))),
      `${where}: stray device ${name}`,
    ).toBe(true);
  }
  const listed = (await d.ok('GET', '/v1/volumes')) as { volumes: { name: string; mountpoint?: string }[] };
  expect(listed.volumes.map((v) => v.name).sort(), `${where}: the API lists the recorded volumes`).toEqual(Object.keys(st.volumes).sort());
  expect(listed.volumes.find((v) => v.name === 'keep')?.mountpoint, `${where}: keep still mounted`).toBe(keptMountpoint);
  expect(Buffer.compare(await fs.readFile(path.join(keptMountpoint, 'data.bin')), kept), `${where}: keep's data`).toBe(0);
  expect(Object.keys(st.volumes.keep?.snapshots ?? {}), `${where}: keep's snapshot`).toContain('base');
  return st;
}

interface Kind {
  label: string;
  /** Unarmed: what the operation needs (the same before the traced run and before each kill). */
  setup: () => Promise<void>;
  /** The operation, armed. */
  op: () => Promise<Reply>;
  /** After the restart: the interrupted operation is absent or complete (asserted), then run again to the end and undone. */
  after: (st: StateFile, where: string) => Promise<void>;
  /**
   * The key steps, in order (each matched after the previous one): the traced run must show each (a
   * broken hook or a changed driver fails here, not silently), and the operation is always killed
   * just before each.
   */
  keySteps: RegExp[];
}

const hasSnapshot = (st: StateFile, name: string): boolean => st.volumes.keep?.snapshots[name] !== undefined;

const KINDS: Kind[] = [
  {
    label: 'volume create',
    setup: async () => undefined,
    op: () => d.api('POST', '/v1/volumes', { name: 'c', size: '16M' }),
    after: async (st) => {
      if (st.volumes.c === undefined) await d.ok('POST', '/v1/volumes', { name: 'c', size: '16M' });
      await d.ok('DELETE', '/v1/volumes/c');
    },
    // thin device created, no record yet: the orphan a crash must not leave
    keySteps: [/^dm TARGET_MSG guest-kill create_thin \d+$/, /^rename drivers\/devicemapper\/state\.json$/],
  },
  {
    label: 'snapshot create of the mounted volume',
    setup: async () => undefined,
    op: () => d.api('POST', '/v1/snapshots', { volume: 'keep', name: 's' }),
    after: async (st) => {
      if (!hasSnapshot(st, 's')) await d.ok('POST', '/v1/snapshots', { volume: 'keep', name: 's' });
      await d.ok('DELETE', '/v1/snapshots/s');
    },
    // the origin suspended (its filesystem frozen); the snapshot made, the origin resumed, no record yet
    keySteps: [/^dm TARGET_MSG guest-kill create_snap \d+ \d+$/, /^rename drivers\/devicemapper\/state\.json$/],
  },
  {
    label: 'snapshot delete',
    setup: async () => {
      await d.ok('POST', '/v1/snapshots', { volume: 'keep', name: 'x' });
    },
    op: () => d.api('DELETE', '/v1/snapshots/x'),
    after: async (st) => {
      if (hasSnapshot(st, 'x')) await d.ok('DELETE', '/v1/snapshots/x');
    },
    // the record gone (journaled), the device not yet; the device gone, the journal not yet
    keySteps: [/^dm TARGET_MSG guest-kill delete \d+$/, /^rename drivers\/devicemapper\/state\.json$/],
  },
  {
    label: 'volume delete',
    setup: async () => {
      await d.ok('POST', '/v1/volumes', { name: 'gone', size: '16M' });
    },
    op: () => d.api('DELETE', '/v1/volumes/gone'),
    after: async (st) => {
      if (st.volumes.gone !== undefined) await d.ok('DELETE', '/v1/volumes/gone');
    },
    // the same journal as a snapshot delete's: its second key step is left to the seeded extras
    keySteps: [/^dm TARGET_MSG guest-kill delete \d+$/],
  },
  {
    label: 'first mount (mkfs)',
    setup: async () => {
      await d.ok('POST', '/v1/volumes', { name: 'm', size: '16M' });
    },
    op: () => d.api('POST', '/v1/volumes/m/mount', {}),
    after: async (st, where) => {
      // mounted (and recorded) or not: mounting again works, the volume takes data, and it can be
      // unmounted and deleted (no mount or active device left behind that would block the delete)
      expect(st.volumes.m, `${where}: m`).toBeDefined();
      const { mountpoint } = (await d.ok('POST', '/v1/volumes/m/mount', {})) as { mountpoint: string };
      await fs.writeFile(path.join(mountpoint, 'f'), 'm\n');
      expect(await fs.readFile(path.join(mountpoint, 'f'), 'utf8')).toBe('m\n');
      await d.ok('POST', '/v1/volumes/m/umount', {});
      await d.ok('DELETE', '/v1/volumes/m');
      const mounts = await fs.readFile('/proc/self/mounts', 'utf8');
      expect(mounts, `${where}: m left mounted`).not.toContain(mountpoint);
    },
    // mkfs running; the mountpoint recorded, not mounted; mounted, the manager's reference not saved
    keySteps: [/^spawn mkfs\.ext4 /, /^spawn mount /, /^rename manager\/state\/mounts\.json$/],
  },
];

beforeAll(async () => {
  assertInGuest();
  resetDeviceMapper();
  if (!existsSync(path.join(REPO, 'apps/daemon/dist/main.js')))
    throw new Error('apps/daemon/dist is missing: build first (npx nx run-many -t build)');
  dir = await scratch('dmkill');
  d = new Daemon(dir);
  await d.start();
  await d.ok('POST', '/v1/volumes', { name: 'keep', size: '32M' });
  keptMountpoint = ((await d.ok('POST', '/v1/volumes/keep/mount', {})) as { mountpoint: string }).mountpoint;
  const fh = await fs.open(path.join(keptMountpoint, 'data.bin'), 'w');
  await fh.writeFile(kept);
  await fh.sync();
  await fh.close();
  await d.ok('POST', '/v1/snapshots', { volume: 'keep', name: 'base' });
}, 600_000);

afterAll(async () => {
  await d?.kill();
  resetDeviceMapper();
});

/** Digits out: the same step of two runs differs only in device ids. */
const shape = (s: string): string => s.replace(/\d+/g, '#');

/** 1-based steps of `trace` to kill before: the key steps (matched in order), and seeded extras. */
function killSteps(k: Kind, trace: string[], random: () => number): number[] {
  const keys: number[] = [];
  let from = 0;
  for (const want of k.keySteps) {
    const i = trace.findIndex((s, j) => j >= from && want.test(s));
    expect(i, `${k.label}: a step ${String(want)} after step ${from} in\n${trace.join('\n')}`).toBeGreaterThanOrEqual(0);
    keys.push(i + 1);
    from = i + 1;
  }
  const rest = trace.map((_, i) => i + 1).filter((n) => !keys.includes(n));
  const extra: number[] = [];
  while (rest.length > 0 && (ALL || extra.length < EXTRA)) extra.push(...rest.splice(Math.floor(random() * rest.length), 1));
  return [...keys, ...extra].sort((a, b) => a - b);
}

describe('convoy-daemon (devicemapper) killed at steps of an operation, restarted on the same pool', () => {
  for (const [n, k] of KINDS.entries()) {
    it(`${k.label}`, { timeout: 1_200_000 }, async () => {
      await expectConsistent('before');
      await k.setup();
      await d.arm(null);
      expect((await k.op()).status, `${k.label}: traced run`).toBe(200);
      const trace = d.steps();
      await k.after(await readState(), `${k.label}, traced`);
      await expectConsistent(`${k.label}, traced`);
      const chosen = killSteps(k, trace, prng(SEED + n));
      console.log(`${k.label}: ${trace.length} steps, killed before ${chosen.join(', ')} (seed ${SEED})\n  ${trace.join('\n  ')}`);

      for (const step of chosen) {
        const where = `${k.label}, killed before step ${step} (${trace[step - 1]})`;
        await k.setup();
        await d.arm(step);
        const r = await k.op();
        expect(r.status, `${where}: the request got no answer`).toBe(0);
        expect(await d.exited, `${where}: SIGKILL`).toBe('SIGKILL');
        expect(d.killedAt(), where).toBe(step);
        expect(d.steps().map(shape), `${where}: the same steps as the traced run`).toEqual(trace.slice(0, step).map(shape));
        await d.start();
        const st = await expectConsistent(where);
        await k.after(st, where);
        await expectConsistent(`${where}, re-run`);
        console.log(`${where}: consistent (restart: ${d.startTimes})`);
      }
    });
  }
});
