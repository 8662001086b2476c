// The daemon's control API calls the daemon campaigns make (docs/control-api.md), each recorded in
// the trial, and the "restores bit-exact" check through the daemon itself.
import type { DaemonProcess } from './daemon-process.js';
import type { Trial } from './trial.js';
import { treeHash } from './tree.js';
import { describeReply, type Reply } from './unix-http.js';

export interface ApiVolume {
  name: string;
  uuid: string;
  state?: string;
  mountpoint?: string;
  /** Docker mount IDs (and `cli`) holding it mounted on this host. */
  mountedBy?: string[];
  status?: { path?: string };
}

export interface ApiSnapshot {
  name: string;
  uuid: string;
  volume: string;
}

const enc = encodeURIComponent;

export class DaemonApi {
  readonly d: DaemonProcess;
  readonly #trial: () => Trial | undefined;

  constructor(d: DaemonProcess, trial: () => Trial | undefined) {
    this.d = d;
    this.#trial = trial;
  }

  async #call(what: string, method: string, target: string, body?: unknown): Promise<Reply> {
    const r = await this.d.control.call(method, target, body);
    const uuid = (r.json as { uuid?: unknown } | undefined)?.uuid;
    this.#trial()?.noteCommand(
      [this.d.spec.label, what],
      `${describeReply(method, r).replace(/^\S+ → /, '')}${typeof uuid === 'string' ? ` uuid ${uuid}` : ''}`,
    );
    return r;
  }

  createVolume(name: string, backup?: string): Promise<Reply> {
    return this.#call(`create ${name}${backup === undefined ? '' : ` --backup ${backup}`}`, 'POST', '/v1/volumes', { name, backup });
  }

  deleteVolume(name: string, force = false): Promise<Reply> {
    return this.#call(`delete ${force ? '--force ' : ''}${name}`, 'DELETE', `/v1/volumes/${enc(name)}${force ? '?force=1' : ''}`);
  }

  /** Docker's Mount and Unmount (the plugin protocol), with Docker's mount ID. */
  async dockerMount(name: string, id: string): Promise<Reply> {
    const r = await this.d.plugin.call('POST', '/VolumeDriver.Mount', { Name: name, ID: id });
    this.#trial()?.noteCommand([this.d.spec.label, `docker Mount ${name} ${id.slice(0, 12)}`], describeReply('', r).replace(/^ → /, ''));
    return r;
  }

  async dockerUnmount(name: string, id: string): Promise<Reply> {
    const r = await this.d.plugin.call('POST', '/VolumeDriver.Unmount', { Name: name, ID: id });
    this.#trial()?.noteCommand([this.d.spec.label, `docker Unmount ${name} ${id.slice(0, 12)}`], describeReply('', r).replace(/^ → /, ''));
    return r;
  }

  async volume(name: string): Promise<ApiVolume | undefined> {
    const r = await this.d.control.call('GET', `/v1/volumes/${enc(name)}`);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new Error(describeReply(`inspect ${name}`, r));
    return r.json as ApiVolume;
  }

  async volumes(): Promise<{ volumes: ApiVolume[]; problems: { code: string; message: string }[] }> {
    const r = await this.d.control.call('GET', '/v1/volumes');
    if (r.status !== 200) throw new Error(describeReply('list', r));
    const j = r.json as { volumes: ApiVolume[]; problems?: { code: string; message: string }[] };
    return { volumes: j.volumes, problems: j.problems ?? [] };
  }

  snapshot(volume: string, name: string): Promise<Reply> {
    return this.#call(`snapshot create ${volume} --name ${name}`, 'POST', '/v1/snapshots', { volume, name });
  }

  async snapshotInfo(name: string): Promise<ApiSnapshot | undefined> {
    const r = await this.d.control.call('GET', `/v1/snapshots/${enc(name)}`);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new Error(describeReply(`snapshot inspect ${name}`, r));
    return r.json as ApiSnapshot;
  }

  backup(snapshot: string, dest: string): Promise<Reply> {
    return this.#call(`backup create ${snapshot} --dest ${dest}`, 'POST', '/v1/backups', { snapshot, dest });
  }

  async backups(dest: string): Promise<string[]> {
    const r = await this.d.control.call('GET', `/v1/backups?dest=${enc(dest)}`);
    if (r.status !== 200) throw new Error(describeReply('backup list', r));
    return (r.json as { backups: { url: string }[] }).backups.map((b) => b.url).sort();
  }

  /** Restores `url` into a scratch volume through the daemon, hashes it, deletes it. */
  async restoredHash(url: string, scratch: string): Promise<string | Reply> {
    const r = await this.createVolume(scratch, url);
    if (r.status !== 200) return r;
    const hash = await treeHash(String((r.json as ApiVolume).status?.path));
    const del = await this.deleteVolume(scratch);
    if (del.status !== 200) return del;
    return hash ?? 'no directory';
  }
}
