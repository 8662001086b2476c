// Campaign 4, two daemons on one vfs path (as two hosts on NFS): daemons rel-a and rel-b, each
// with its own --root and host id, share one base path. Four streams run at once for a round —
// on each daemon a Docker stream (the plugin protocol: Create, Get, Mount, Unmount, Remove, as
// Docker sends them) and an operator stream (the control API: create, delete, delete --force) —
// each a seeded sequence of operations on the same few names. While a Docker stream holds a
// volume mounted it keeps a marker file in it. Checked: every call answers (no hang, no deadlock)
// with success or an expected refusal (exists, not found, in use, referenced, incomplete, deleted
// by the other host); a volume one daemon mounts is never deleted by the other (its mountpoint and
// marker are there until it is unmounted); a volume only disappears through a delete that
// succeeded; at the end of a round both daemons list the same volumes, no lease is left, and the
// base path is consistent (no orphan directory, no record pointing at nothing, nothing "creating").
// The checks at the end of a round: shared-vfs-round.ts.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Size } from './config.js';
import { DaemonApi } from './daemon-api.js';
import { DaemonProcess } from './daemon-process.js';
import type { Rng } from './prng.js';
import { HOSTS, endRound, type Held } from './shared-vfs-round.js';
import { Trial } from './trial.js';
import { describeReply, type Reply } from './unix-http.js';
import { layoutProblems, readLayout } from './vfs-layout.js';

/** Refusals two hosts working on the same names must expect (control API codes). */
const EXPECTED = new Set([
  'CONVOY_VOLUME_EXISTS',
  'CONVOY_VOLUME_NOT_FOUND',
  'CONVOY_VOLUME_IN_USE',
  'CONVOY_VOLUME_REFERENCED',
  'CONVOY_VOLUME_INCOMPLETE',
  'CONVOY_VOLUME_DELETED',
  'CONVOY_VOLUME_DELETING',
]);
/** The same refusals as Docker's `Err` text says them. */
const EXPECTED_ERR =
  /already exists|does not exist|not found|is mounted on|still known to Docker|is not finished|is being deleted by|was deleted (by host|by another host meanwhile|while it was being (created|mounted)|\(or created anew)/;

export class SharedVfsCampaign {
  readonly dir: string;
  readonly size: Size;
  readonly resultsFile: string;
  readonly vfsPath: string;
  readonly daemons: DaemonProcess[];
  readonly apis: DaemonApi[];
  #trial: Trial | undefined;

  constructor(dir: string, size: Size, resultsFile: string) {
    this.dir = dir;
    this.size = size;
    this.resultsFile = resultsFile;
    this.vfsPath = path.join(dir, 'vfs');
    this.daemons = HOSTS.map(
      (h) =>
        new DaemonProcess({
          label: h,
          dir,
          root: path.join(dir, `root-${h}`),
          vfsPath: this.vfsPath,
          hostId: h,
          leaseTtlMs: size.leaseTtlMs,
          startTimeoutMs: 60_000,
        }),
    );
    this.apis = this.daemons.map((d) => new DaemonApi(d, () => this.#trial));
  }

  async setup(): Promise<void> {
    for (const d of this.daemons) await d.start();
  }

  async round(n: number, rng: Rng): Promise<void> {
    const trial = new Trial('shared-vfs', 'vfs', 'two-daemons', `shared-vfs round #${n}`, rng.seed);
    this.#trial = trial;
    let error: unknown;
    try {
      await this.#round(trial, n, rng);
    } catch (err) {
      error = err;
    }
    this.#trial = undefined;
    trial.finish(this.resultsFile, error);
  }

  async #round(trial: Trial, n: number, rng: Rng): Promise<void> {
    const names = Array.from({ length: this.size.sharedVfs.names }, (_, i) => `n${n}-v${i}`);
    const held: Held[] = [];
    const observed = new Map<string, { name: string; at: number }>(); // uuid → when the first call that saw it began
    const deletes: { name: string; host: string; start: number; end: number }[] = [];
    const counts: Record<string, number> = {};
    const started = performance.now();
    const now = (): number => performance.now() - started;
    // A kill -9 of one daemon in the middle of the round (seeded), then its restart: calls to it
    // that overlap its downtime may get no answer, and their effect is unknown.
    const windows: { i: number; from: number; to?: number }[] = [];
    const up: Promise<void>[] = this.daemons.map(() => Promise.resolve());
    let calls = 0;
    const onCall: (() => void)[] = [];
    const interrupted = (i: number, t0: number): boolean => windows.some((w) => w.i === i && t0 <= (w.to ?? Infinity) && now() >= w.from);
    /** 'ok', 'refused' (as two hosts must expect), 'killed' (no answer: its daemon was killed meanwhile) or 'failed'. */
    const outcome = (i: number, what: string, r: Reply, t0: number, name = ''): 'ok' | 'refused' | 'killed' | 'failed' => {
      const host = HOSTS[i] as string;
      calls++;
      for (const f of onCall.splice(0)) f();
      if (what.startsWith('docker')) trial.noteCommand([host, what, name], describeReply('', r).replace(/^ → /, ''));
      const killed = r.status === 0 && interrupted(i, t0);
      const key = `${what} ${killed ? 'killed' : r.status === 200 && r.code === undefined ? 'ok' : r.code === 'docker-err' ? 'refused' : (r.code ?? 'failed')}`;
      counts[key] = (counts[key] ?? 0) + 1;
      if (killed) return 'killed';
      if (r.status === 0) {
        trial.check('every call answers (no hang, no deadlock)', false, describeReply(`${host} ${what}`, r));
        return 'failed';
      }
      trial.check('every call answers (no hang, no deadlock)', true);
      if (r.status === 200 && r.code === undefined) return 'ok';
      const expected =
        r.code === 'docker-err'
          ? EXPECTED_ERR.test(r.message ?? '') && !/internal error/.test(r.message ?? '')
          : EXPECTED.has(r.code ?? '');
      trial.check('each call succeeds or is refused for a reason two hosts must expect', expected, describeReply(`${host} ${what}`, r));
      return expected ? 'refused' : 'failed';
    };
    /** Docker mount IDs whose Mount got no answer (its daemon was killed): maybe held; released at the end. */
    const maybeHeld: { i: number; name: string; id: string }[] = [];
    const see = (name: string, uuid: string | undefined, at: number): void => {
      if (uuid !== undefined && !observed.has(uuid)) observed.set(uuid, { name, at });
    };
    const deleted = (host: string, name: string, start: number): void => {
      deletes.push({ name, host, start, end: now() });
      // a volume another daemon held mounted since before this delete began must still be there
      for (const h of held) {
        if (h.name !== name || h.host === host || h.since > start) continue;
        trial.check(
          'a volume mounted by one daemon is never deleted by the other',
          existsSync(h.marker),
          `${host} deleted ${name} while ${h.host} had it mounted (${h.mountpoint})`,
        );
      }
    };

    const docker = async (i: number, srng: Rng): Promise<void> => {
      const d = this.daemons[i] as DaemonProcess;
      const host = d.spec.hostId;
      for (let k = 0; k < this.size.sharedVfs.opsPerStream; k++) {
        await up[i];
        const mine = held.filter((h) => h.host === host);
        const name = srng.pick(names);
        const op = srng.pick(['create', 'create', 'get', 'mount', 'mount', 'unmount', 'unmount', 'remove']);
        const t0 = now();
        if (op === 'unmount' && mine.length > 0) {
          const h = srng.pick(mine);
          trial.check(
            'a volume mounted by one daemon is never deleted by the other',
            existsSync(h.marker) && (await fs.readFile(h.marker, 'utf8')) === h.id,
            `${h.name}'s mount on ${host} (${h.mountpoint}) lost its marker while mounted`,
          );
          held.splice(held.indexOf(h), 1); // from now on the other daemon may delete it
          const r = await d.plugin.call('POST', '/VolumeDriver.Unmount', { Name: h.name, ID: h.id }, 60_000);
          const o = outcome(i, 'docker-unmount', r, t0, h.name);
          if (o === 'killed')
            maybeHeld.push({ i, name: h.name, id: h.id }); // Docker sends it again
          else trial.check('an unmount of a held mount succeeds', o === 'ok', describeReply(`${host} Unmount ${h.name}`, r));
        } else if (op === 'mount') {
          const id = randomBytes(32).toString('hex');
          const r = await d.plugin.call('POST', '/VolumeDriver.Mount', { Name: name, ID: id }, 60_000);
          const o = outcome(i, 'docker-mount', r, t0, `${name} → ${String((r.json as { Mountpoint?: string } | undefined)?.Mountpoint)}`);
          if (o === 'killed') maybeHeld.push({ i, name, id });
          if (o === 'ok') {
            const mountpoint = String((r.json as { Mountpoint?: string }).Mountpoint);
            const marker = path.join(mountpoint, `marker-${host}-${id.slice(0, 8)}`);
            see(name, path.basename(mountpoint), t0);
            const wrote = await fs.writeFile(marker, id).then(
              () => true,
              (err: Error) => err.message,
            );
            if (
              !trial.check(
                'a volume mounted by one daemon is never deleted by the other',
                wrote === true,
                `${host} mounted ${name} at ${mountpoint}, which then could not be written: ${String(wrote)}`,
              )
            )
              continue;
            held.push({ host, name, id, mountpoint, marker, since: now() });
          }
        } else if (op === 'remove' && !mine.some((h) => h.name === name)) {
          // Docker removes only what no container of its own uses
          const o = outcome(i, 'docker-remove', await d.plugin.call('POST', '/VolumeDriver.Remove', { Name: name }, 60_000), t0, name);
          if (o === 'ok' || o === 'killed') deleted(host, name, t0);
        } else if (op === 'get') {
          const r = await d.plugin.call('POST', '/VolumeDriver.Get', { Name: name }, 60_000);
          if (outcome(i, 'docker-get', r, t0, name) === 'ok')
            see(name, (r.json as { Volume?: { Status?: { uuid?: string } } }).Volume?.Status?.uuid, t0);
        } else {
          outcome(i, 'docker-create', await d.plugin.call('POST', '/VolumeDriver.Create', { Name: name, Opts: null }, 60_000), t0, name);
        }
      }
    };
    const operator = async (i: number, srng: Rng): Promise<void> => {
      const api = this.apis[i] as DaemonApi;
      const host = api.d.spec.hostId;
      for (let k = 0; k < this.size.sharedVfs.opsPerStream; k++) {
        await up[i];
        const name = srng.pick(names);
        const t0 = now();
        if (srng.chance(0.5)) {
          const r = await api.createVolume(name);
          if (outcome(i, 'create', r, t0) === 'ok') see(name, (r.json as { uuid?: string }).uuid, t0);
        } else {
          const force = srng.chance(0.5);
          const o = outcome(i, force ? 'delete --force' : 'delete', await api.deleteVolume(name, force), t0);
          if (o === 'ok' || o === 'killed') deleted(host, name, t0);
        }
      }
    };
    const total = HOSTS.length * 2 * this.size.sharedVfs.opsPerStream;
    const kill = rng.chance(this.size.sharedVfs.killChance)
      ? { i: rng.int(0, HOSTS.length - 1), afterCalls: rng.int(2, Math.floor(total / 2)) }
      : undefined;
    let streaming = true;
    const killer = async (): Promise<void> => {
      if (kill === undefined) return;
      while (streaming && calls < kill.afterCalls) await new Promise<void>((resolve) => onCall.push(resolve));
      if (!streaming) return;
      const d = this.daemons[kill.i] as DaemonProcess;
      const w: { i: number; from: number; to?: number } = { i: kill.i, from: now() };
      windows.push(w);
      let release = (): void => undefined;
      up[kill.i] = new Promise<void>((resolve) => (release = resolve));
      await d.kill9();
      trial.fault(`SIGKILL of ${d.spec.hostId} after ${calls} calls, then its restart while the other daemon goes on`);
      try {
        await d.start();
        trial.check('a killed daemon restarts while the other one works on the same names', true);
      } catch (err) {
        trial.check('a killed daemon restarts while the other one works on the same names', false, (err as Error).message.slice(0, 1500));
        await d.start(); // a second try: the other checks need it
      } finally {
        w.to = now();
        release();
      }
    };
    trial.fault(
      `${HOSTS.length} daemons × (Docker + operator stream) × ${this.size.sharedVfs.opsPerStream} operations on ${names.length} shared names`,
    );
    const killing = killer();
    await Promise.all([
      docker(0, rng.fork('docker-a')),
      docker(1, rng.fork('docker-b')),
      operator(0, rng.fork('cli-a')),
      operator(1, rng.fork('cli-b')),
    ]);
    streaming = false;
    for (const f of onCall.splice(0)) f();
    await killing;
    trial.measure('roundMs', now());
    trial.measure('daemonKills', windows.length);
    await endRound(trial, this.daemons, this.apis, this.vfsPath, { names, held, maybeHeld, observed, deletes, counts });
  }

  /** Both daemons restart (kill -9 of one, SIGTERM of the other) and still agree; the base path is consistent. */
  async final(): Promise<void> {
    const trial = new Trial('shared-vfs', 'vfs', 'final', 'shared-vfs: both daemons restart and agree', 0);
    this.#trial = trial;
    let error: unknown;
    try {
      await this.daemons[0]?.kill9();
      await this.daemons[1]?.stop();
      for (const d of this.daemons) await d.start();
      const lists = await Promise.all(
        this.apis.map(async (a) =>
          (await a.volumes()).volumes
            .map((v) => `${v.name}=${v.uuid}`)
            .sort()
            .join(' '),
        ),
      );
      trial.check('both daemons end with the same volumes', lists[0] === lists[1], lists.join(' | '));
      const problems = layoutProblems(await readLayout(this.vfsPath), [...HOSTS]);
      trial.check('no orphan directory, no record pointing at nothing', problems.length === 0, problems.join('; '));
      trial.outcome(`${lists[0]?.split(' ').filter((x) => x !== '').length ?? 0} volumes, the same on both daemons after their restarts`);
    } catch (err) {
      error = err;
    }
    this.#trial = undefined;
    trial.finish(this.resultsFile, error);
  }

  async close(): Promise<void> {
    for (const d of this.daemons) await d.dispose();
  }
}
