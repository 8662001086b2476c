// Campaign 6a: fuzzing both of the daemon's sockets. A real convoy-daemon (vfs driver) serves a
// volume, a snapshot and a real vfs backup; seeded fast-check batches of hostile requests go to
// its plugin socket and its control socket, one at a time. Every request must get a proper answer
// (hostile-judge.ts), the daemon must stay up and keep serving (a health request after
// each batch), and nothing outside its root, its vfs path and the store directory may change (a
// snapshot of the campaign directory with its sentinel tree, and of the directories around it).
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostileDaemon, daemonPaths, type DaemonPaths } from './hostile-daemon.js';
import { diffTrees, plantSentinel, snapshotTree, strayEntries, type Tree } from './hostile-fs.js';
import { rawRequest, type RawOutcome } from './hostile-http.js';
import { answerClass, judge } from './hostile-judge.js';
import type { Places } from './hostile-pools.js';
import { bigRequest, controlRequestArb, pluginRequestArb, type HostileRequest, type Socket } from './hostile-requests.js';
import type { Trial } from './trial.js';

const REQUEST_TIMEOUT_MS = 30_000;
/** Names the fuzzer makes up that must never appear around the campaign directory. */
const MARKERS = ['nothere', 'hz-', '%2e', '%00'];

export class SocketFuzz {
  readonly dir: string;
  readonly paths: DaemonPaths;
  readonly places: Places;
  daemon: HostileDaemon | undefined;
  #skip: string[];
  #before: Tree = new Map();
  #around: Map<string, string[]> = new Map();

  constructor(dir: string) {
    this.dir = dir;
    this.paths = daemonPaths(path.join(dir, 'daemon'));
    const stores = path.join(dir, 'backups');
    this.places = {
      stores,
      realStore: path.join(stores, 'real'),
      backupVolume: 'hz-vol',
      backupId: '',
      sentinel: path.join(dir, 'sentinel'),
      volumes: ['hz-vol'],
      snapshots: ['hz-snap'],
    };
    // The daemon may write in its root and vfs path, the stores; its sockets and log are its own.
    this.#skip = [this.paths.root, this.paths.vfsPath, path.dirname(this.paths.pluginSocket), this.paths.logFile, stores];
  }

  /** Starts the daemon, makes a volume with a file, a snapshot and a vfs backup of it, plants the sentinel. */
  async setup(): Promise<void> {
    fs.mkdirSync(this.places.stores, { recursive: true });
    plantSentinel(this.places.sentinel);
    this.daemon = await HostileDaemon.start(this.paths);
    const ok = async (method: string, target: string, body?: unknown): Promise<Record<string, unknown>> => {
      const o = await rawRequest(
        this.paths.controlSocket,
        { method, target, ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }) },
        120_000,
      );
      if (o.kind !== 'answer' || o.status !== 200)
        throw new Error(`set-up ${method} ${target} failed: ${o.kind === 'answer' ? `${o.status} ${o.body.toString('utf8')}` : o.kind}`);
      return o.json as Record<string, unknown>;
    };
    await ok('POST', '/v1/volumes', { name: 'hz-vol' });
    const { mountpoint } = (await ok('POST', '/v1/volumes/hz-vol/mount', {})) as { mountpoint: string };
    fs.writeFileSync(path.join(mountpoint, 'file'), 'hostile input campaign\n'.repeat(1000));
    await ok('POST', '/v1/volumes/hz-vol/umount', {});
    await ok('POST', '/v1/snapshots', { volume: 'hz-vol', name: 'hz-snap' });
    const backup = (await ok('POST', '/v1/backups', { snapshot: 'hz-snap', dest: `vfs://${this.places.realStore}` })) as { url: string };
    const id = new URL(backup.url.replace(/^vfs:/, 'http:')).searchParams.get('backup');
    if (id === null) throw new Error(`set-up backup answered no id: ${backup.url}`);
    this.places.backupId = id;
    this.#before = snapshotTree(this.dir, this.#skip);
    for (const d of ['/', '/etc']) this.#around.set(d, safeList(d));
  }

  /** One batch: `count` requests from the socket's arbitrary (seeded), plus `big` 10 MB bodies. */
  async batch(trial: Trial, socket: Socket, seed: number, count: number, big: number, parallel: number): Promise<void> {
    const daemon = await this.#running(trial);
    const arb = socket === 'plugin' ? pluginRequestArb(this.places) : controlRequestArb(this.places);
    const requests = [
      ...fc.sample(arb, { seed, numRuns: count }),
      ...fc.sample(bigRequest(socket, this.places), { seed: seed + 1, numRuns: big }),
    ];
    trial.fault(`${requests.length} fuzzed requests to the ${socket} socket, ${parallel} at a time (fast-check seed ${seed})`);
    let crashes = 0;
    const sockPath = socket === 'plugin' ? this.paths.pluginSocket : this.paths.controlSocket;
    const health =
      socket === 'plugin'
        ? { method: 'POST', target: '/VolumeDriver.Capabilities', body: Buffer.from('{}') }
        : { method: 'GET', target: '/v1/info' };
    // `parallel` requests at a time (Docker and several CLIs use the sockets at once).
    for (let at = 0; at < requests.length && crashes === 0; at += parallel) {
      await Promise.all(
        requests.slice(at, at + parallel).map(async (req, j) => {
          // Every other request on a kept-alive connection, followed by a health request on it.
          const outcome = await rawRequest(sockPath, req, REQUEST_TIMEOUT_MS, (at + j) % 2 === 0 ? health : undefined);
          this.#judge(trial, req, outcome);
        }),
      );
      if (daemon.exit !== undefined) {
        crashes++;
        trial.fail(
          `daemon crashed (${daemon.exit}) during requests ${at}-${at + parallel - 1}: ${requests
            .slice(at, at + parallel)
            .map((r) => describe(r, { kind: 'hang' }))
            .join(' | ')}`,
        );
      }
    }
    trial.measure('requests', requests.length);
    trial.measure('crashes', crashes);
    if (crashes === 0) await this.#health(trial);
    this.writesOutside(trial);
  }

  #judge(trial: Trial, req: HostileRequest, outcome: RawOutcome): void {
    trial.measure(`kind:${req.kind}`, (trial.record.measures[`kind:${req.kind}`] ?? 0) + 1);
    const cls = outcome.kind === 'answer' ? String(outcome.status) : answerClass(outcome);
    trial.measure(`status:${cls}`, (trial.record.measures[`status:${cls}`] ?? 0) + 1);
    const wrong = judge(req, outcome);
    trial.check('every request gets a proper answer', wrong === undefined, () => `${wrong ?? ''} — ${describe(req, outcome)}`);
    if (outcome.kind === 'answer' && outcome.followUp !== undefined) {
      const f = outcome.followUp;
      const reused = f.kind === 'answer' && f.status === 200 && (f.json as { Err?: unknown } | undefined)?.Err === undefined;
      trial.measure('keptAlive', (trial.record.measures.keptAlive ?? 0) + 1);
      trial.check(
        'after an answer the kept-alive connection serves the next request, or was closed with Connection: close',
        reused,
        () =>
          `follow-up ${f.kind === 'answer' ? `${f.status} ${f.body.subarray(0, 200).toString('utf8')}` : f.kind === 'dropped' ? f.detail : 'no answer'} — after ${describe(req, outcome)}`,
      );
    }
  }

  async close(): Promise<void> {
    await this.daemon?.stop();
  }

  /** The daemon, started again if the previous batch crashed it (the crash is already recorded). */
  async #running(trial: Trial): Promise<HostileDaemon> {
    if (this.daemon !== undefined && this.daemon.exit === undefined) return this.daemon;
    trial.fault('daemon restarted after a crash in an earlier batch');
    for (const s of [this.paths.pluginSocket, this.paths.controlSocket]) fs.rmSync(s, { force: true });
    this.daemon = await HostileDaemon.start(this.paths);
    return this.daemon;
  }

  async #health(trial: Trial): Promise<void> {
    const info = await rawRequest(this.paths.controlSocket, { method: 'GET', target: '/v1/volumes' }, REQUEST_TIMEOUT_MS);
    const listed = info.kind === 'answer' && info.status === 200 && Array.isArray((info.json as { volumes?: unknown }).volumes);
    trial.check('the control socket still serves (GET /v1/volumes)', listed, () =>
      describe({ socket: 'control', kind: 'health', method: 'GET', target: '/v1/volumes' }, info),
    );
    const list = await rawRequest(
      this.paths.pluginSocket,
      { method: 'POST', target: '/VolumeDriver.List', body: Buffer.from('{}') },
      REQUEST_TIMEOUT_MS,
    );
    const served = list.kind === 'answer' && list.status === 200 && Array.isArray((list.json as { Volumes?: unknown }).Volumes);
    trial.check('the plugin socket still serves (VolumeDriver.List)', served, () =>
      describe({ socket: 'plugin', kind: 'health', method: 'POST', target: '/VolumeDriver.List' }, list),
    );
  }

  writesOutside(trial: Trial): void {
    const changed = diffTrees(this.#before, snapshotTree(this.dir, this.#skip));
    const around = [...this.#around].flatMap(([d, was]) =>
      safeList(d)
        .filter((n) => !was.includes(n))
        .map((n) => `new: ${path.join(d, n)}`),
    );
    const stray = strayEntries([os.tmpdir()], MARKERS).map((p) => `new: ${p}`);
    const outside = [...changed, ...around, ...stray];
    trial.measure('writesOutside', outside.length);
    trial.check('nothing written outside the daemon root, vfs path and stores', outside.length === 0, () =>
      outside.slice(0, 20).join('; '),
    );
  }
}

function safeList(d: string): string[] {
  try {
    return fs.readdirSync(d);
  } catch {
    return [];
  }
}

/** A request and its outcome in one line (targets and bodies cut short). */
export function describe(req: HostileRequest, o: RawOutcome): string {
  const body =
    req.body === undefined
      ? ''
      : ` body ${req.body.length > 160 ? `${req.body.length} bytes: ${JSON.stringify(req.body.subarray(0, 120).toString('utf8'))}…` : JSON.stringify(req.body.toString('utf8'))}`;
  const headers = Object.keys(req.headers ?? {}).length > 0 ? ` headers ${JSON.stringify(req.headers)}` : '';
  const got =
    o.kind === 'answer'
      ? `${o.status} ${o.body.subarray(0, 300).toString('utf8').trim()}`
      : o.kind === 'hang'
        ? 'no answer'
        : `dropped (${o.detail})`;
  return `[${req.socket}/${req.kind}] ${JSON.stringify(req.method)} ${JSON.stringify(req.target.length > 200 ? `${req.target.slice(0, 200)}…(${req.target.length})` : req.target)}${headers}${body} → ${got}`;
}
