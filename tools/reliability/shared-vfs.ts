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
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Size } from './config.js';
import { DaemonApi } from './daemon-api.js';
import { DaemonProcess } from './daemon-process.js';
import type { Rng } from './prng.js';
import { Trial } from './trial.js';
import { describeReply, type Reply } from './unix-http.js';
import { layoutProblems, readLayout } from './vfs-layout.js';

const HOSTS = ['rel-a', 'rel-b'] as const;
/** Refusals two hosts working on the same names must expect (control API codes). */
const EXPECTED = new Set(['CONVOY_VOLUME_EXISTS', 'CONVOY_VOLUME_NOT_FOUND', 'CONVOY_VOLUME_IN_USE', 'CONVOY_VOLUME_REFERENCED', 'CONVOY_VOLUME_INCOMPLETE', 'CONVOY_VOLUME_DELETED', 'CONVOY_VOLUME_DELETING']);
/** The same refusals as Docker's `Err` text says them. */
const EXPECTED_ERR = /already exists|does not exist|not found|is mounted on|still known to Docker|is not finished|is being deleted by|was deleted (by host|by another host meanwhile|while it was being (created|mounted)|\(or created anew)/;

interface Held {
  host: string;
  name: string;
  id: string;
  mountpoint: string;
  marker: string;
  since: number;
}

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
    this.daemons = HOSTS.map((h) => new DaemonProcess({ label: h, dir, root: path.join(dir, `root-${h}`), vfsPath: this.vfsPath, hostId: h, leaseTtlMs: size.leaseTtlMs, startTimeoutMs: 60_000 }));
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
    const outcome = (host: string, what: string, r: Reply, name = ''): boolean => {
      if (what.startsWith('docker')) trial.noteCommand([host, what, name], describeReply('', r).replace(/^ → /, ''));
      const key = `${what} ${r.status === 200 && r.code === undefined ? 'ok' : (r.code === 'docker-err' ? 'refused' : (r.code ?? 'failed'))}`;
      counts[key] = (counts[key] ?? 0) + 1;
      if (r.status === 0) return trial.check('every call answers (no hang, no deadlock)', false, describeReply(`${host} ${what}`, r));
      trial.check('every call answers (no hang, no deadlock)', true);
      if (r.status === 200 && r.code === undefined) return true;
      const expected = r.code === 'docker-err' ? EXPECTED_ERR.test(r.message ?? '') && !/internal error/.test(r.message ?? '') : EXPECTED.has(r.code ?? '');
      trial.check('each call succeeds or is refused for a reason two hosts must expect', expected, describeReply(`${host} ${what}`, r));
      return false;
    };
    const see = (name: string, uuid: string | undefined, at: number): void => {
      if (uuid !== undefined && !observed.has(uuid)) observed.set(uuid, { name, at });
    };
    const deleted = (host: string, name: string, start: number): void => {
      deletes.push({ name, host, start, end: now() });
      // a volume another daemon held mounted since before this delete began must still be there
      for (const h of held) {
        if (h.name !== name || h.host === host || h.since > start) continue;
        trial.check('a volume mounted by one daemon is never deleted by the other', existsSync(h.marker), `${host} deleted ${name} while ${h.host} had it mounted (${h.mountpoint})`);
      }
    };

    const docker = async (i: number, srng: Rng): Promise<void> => {
      const d = this.daemons[i] as DaemonProcess;
      const host = d.spec.hostId;
      for (let k = 0; k < this.size.sharedVfs.opsPerStream; k++) {
        const mine = held.filter((h) => h.host === host);
        const name = srng.pick(names);
        const op = srng.pick(['create', 'create', 'get', 'mount', 'mount', 'unmount', 'unmount', 'remove']);
        const t0 = now();
        if (op === 'unmount' && mine.length > 0) {
          const h = srng.pick(mine);
          trial.check('a volume mounted by one daemon is never deleted by the other', existsSync(h.marker) && (await fs.readFile(h.marker, 'utf8')) === h.id, `${h.name}'s mount on ${host} (${h.mountpoint}) lost its marker while mounted`);
          const r = await d.plugin.call('POST', '/VolumeDriver.Unmount', { Name: h.name, ID: h.id }, 60_000);
          trial.check('an unmount of a held mount succeeds', r.status === 200 && r.code === undefined, describeReply(`${host} Unmount ${h.name}`, r));
          outcome(host, 'docker-unmount', r, h.name);
          held.splice(held.indexOf(h), 1);
        } else if (op === 'mount') {
          const id = randomBytes(32).toString('hex');
          const r = await d.plugin.call('POST', '/VolumeDriver.Mount', { Name: name, ID: id }, 60_000);
          if (outcome(host, 'docker-mount', r, `${name} → ${String((r.json as { Mountpoint?: string } | undefined)?.Mountpoint)}`)) {
            const mountpoint = String((r.json as { Mountpoint?: string }).Mountpoint);
            const marker = path.join(mountpoint, `marker-${host}-${id.slice(0, 8)}`);
            see(name, path.basename(mountpoint), t0);
            const wrote = await fs.writeFile(marker, id).then(() => true, (err: Error) => err.message);
            if (!trial.check('a volume mounted by one daemon is never deleted by the other', wrote === true, `${host} mounted ${name} at ${mountpoint}, which then could not be written: ${String(wrote)}`)) continue;
            held.push({ host, name, id, mountpoint, marker, since: now() });
          }
        } else if (op === 'remove' && !mine.some((h) => h.name === name)) {
          // Docker removes only what no container of its own uses
          const start = now();
          if (outcome(host, 'docker-remove', await d.plugin.call('POST', '/VolumeDriver.Remove', { Name: name }, 60_000), name)) deleted(host, name, start);
        } else if (op === 'get') {
          const r = await d.plugin.call('POST', '/VolumeDriver.Get', { Name: name }, 60_000);
          trial.noteCommand([host, 'docker-get', name], describeReply('', r).replace(/^ → /, ''));
          if (r.status === 200 && r.code === undefined) see(name, (r.json as { Volume?: { Status?: { uuid?: string } } }).Volume?.Status?.uuid, t0);
          else outcome(host, 'docker-get', { ...r, ...(r.code === 'docker-err' && /does not exist|was deleted/.test(r.message ?? '') ? { status: 200, code: undefined } : {}) });
        } else {
          outcome(host, 'docker-create', await d.plugin.call('POST', '/VolumeDriver.Create', { Name: name, Opts: null }, 60_000), name);
        }
      }
    };
    const operator = async (i: number, srng: Rng): Promise<void> => {
      const api = this.apis[i] as DaemonApi;
      const host = api.d.spec.hostId;
      for (let k = 0; k < this.size.sharedVfs.opsPerStream; k++) {
        const name = srng.pick(names);
        if (srng.chance(0.5)) {
          const t0 = now();
          const r = await api.createVolume(name);
          if (outcome(host, 'create', r)) see(name, (r.json as { uuid?: string }).uuid, t0);
        } else {
          const force = srng.chance(0.5);
          const start = now();
          if (outcome(host, force ? 'delete --force' : 'delete', await api.deleteVolume(name, force))) deleted(host, name, start);
        }
      }
    };
    trial.fault(`${HOSTS.length} daemons × (Docker + operator stream) × ${this.size.sharedVfs.opsPerStream} operations on ${names.length} shared names`);
    await Promise.all([docker(0, rng.fork('docker-a')), docker(1, rng.fork('docker-b')), operator(0, rng.fork('cli-a')), operator(1, rng.fork('cli-b'))]);
    trial.measure('roundMs', now());
    // the end of the round: every held mount released, then both daemons must agree
    for (const h of [...held]) {
      const d = this.daemons[HOSTS.indexOf(h.host as (typeof HOSTS)[number])] as DaemonProcess;
      trial.check('a volume mounted by one daemon is never deleted by the other', existsSync(h.marker), `${h.name}'s mount on ${h.host} lost its marker while mounted`);
      const r = await d.plugin.call('POST', '/VolumeDriver.Unmount', { Name: h.name, ID: h.id }, 60_000);
      trial.check('an unmount of a held mount succeeds', r.status === 200 && r.code === undefined, describeReply(`${h.host} Unmount ${h.name}`, r));
    }
    const lists = await Promise.all(this.apis.map((a) => a.volumes()));
    const view = (l: { volumes: { name: string; uuid: string }[] }): string => l.volumes.filter((v) => names.includes(v.name)).map((v) => `${v.name}=${v.uuid}`).sort().join(' ');
    trial.check('both daemons end with the same volumes', view(lists[0] as never) === view(lists[1] as never), `${HOSTS[0]}: ${view(lists[0] as never)}; ${HOSTS[1]}: ${view(lists[1] as never)}`);
    trial.check('both daemons end with the same volumes', lists.every((l) => l.problems.length === 0), () => lists.flatMap((l) => l.problems.map((p) => p.message)).join('; '));
    const present = new Map((lists[0]?.volumes ?? []).map((v) => [v.uuid, v.name]));
    for (const [uuid, o] of observed) {
      if (present.has(uuid)) continue;
      trial.check('nothing lost: a volume disappears only through a delete that succeeded', deletes.some((d) => d.name === o.name && d.end >= o.at), `${o.name} (${uuid}), seen by a call begun at ${(o.at / 1000).toFixed(2)} s, is gone but no delete of it ended after that call began`);
    }
    const layout = await readLayout(this.vfsPath);
    const problems = layoutProblems(layout, []).concat(layout.volumes.filter((v) => v.state === 'creating').map((v) => `volume ${v.name} is still "creating" with no create running`));
    trial.check('no orphan directory, no record pointing at nothing', problems.length === 0, problems.join('; '));
    const leases = await fs.readdir(path.join(this.vfsPath, 'meta', 'leases'), { recursive: true }).catch(() => []);
    const left = leases.filter((f) => f.endsWith('.json') && names.some((nm) => f.startsWith(`${nm}/`)));
    trial.check('no mount lease left once everything is unmounted', left.length === 0, `left: ${left.join(', ')}`);
    for (const d of this.daemons) trial.check('both daemons keep running', d.running, `${d.spec.hostId} exited:\n${d.runLog.slice(-1500)}`);
    trial.outcome(Object.entries(counts).sort().map(([k, v]) => `${k} ${v}`).join(', '));
    for (const [k, v] of Object.entries(counts)) trial.measure(k, v);
    trial.measure('volumesAtEnd', view(lists[0] as never).split(' ').filter((x) => x !== '').length);
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
      const lists = await Promise.all(this.apis.map(async (a) => (await a.volumes()).volumes.map((v) => `${v.name}=${v.uuid}`).sort().join(' ')));
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
