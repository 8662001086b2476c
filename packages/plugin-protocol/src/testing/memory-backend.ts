// A VolumeBackend in memory, for tests of the handler and of anything built on it: it records
// every call in order, counts real mounts, and can be told to fail or stall a method.
import { ConvoyError } from '@convoy/errors';
import type { BackendVolume, VolumeBackend, VolumeOptions, VolumeScope } from '../types.js';

export type BackendMethod = 'create' | 'remove' | 'mount' | 'unmount' | 'path' | 'get' | 'list' | 'capabilities';

export interface BackendCall {
  method: BackendMethod;
  args: unknown[];
}

interface StoredVolume {
  opts: VolumeOptions;
  createdAt: Date;
  mounted: boolean;
}

export interface MemoryBackendOptions {
  scope?: VolumeScope;
  /** Where volume `name` mounts: `${mountRoot}/${name}`. Default /var/lib/convoy/mounts. */
  mountRoot?: string;
  /** The clock for createdAt. */
  now?: () => Date;
}

export class MemoryVolumeBackend implements VolumeBackend {
  readonly calls: BackendCall[] = [];
  readonly volumes = new Map<string, StoredVolume>();
  /** How many times each volume was really mounted / unmounted. */
  readonly mounts = new Map<string, number>();
  readonly unmounts = new Map<string, number>();
  readonly #scope: VolumeScope;
  readonly #root: string;
  readonly #now: () => Date;
  readonly #faults = new Map<BackendMethod, () => Promise<void>>();

  constructor(options: MemoryBackendOptions = {}) {
    this.#scope = options.scope ?? 'local';
    this.#root = options.mountRoot ?? '/var/lib/convoy/mounts';
    this.#now = options.now ?? (() => new Date());
  }

  /** Makes the next calls of `method` throw `error` (until cleared with `clearFault`). */
  failWith(method: BackendMethod, error: unknown): void {
    this.#faults.set(method, () => Promise.reject(error));
  }

  /** Makes the next calls of `method` wait for `gate` before doing their work. */
  stall(method: BackendMethod, gate: Promise<unknown>): void {
    this.#faults.set(method, async () => {
      await gate;
    });
  }

  clearFault(method: BackendMethod): void {
    this.#faults.delete(method);
  }

  /** The methods called so far, in order. */
  get methods(): BackendMethod[] {
    return this.calls.map((c) => c.method);
  }

  async create(name: string, opts: VolumeOptions): Promise<void> {
    await this.#enter('create', name, opts);
    if (this.volumes.has(name)) return; // Docker may Create an existing volume again
    this.volumes.set(name, { opts, createdAt: this.#now(), mounted: false });
  }

  async remove(name: string): Promise<void> {
    await this.#enter('remove', name);
    this.#require(name);
    this.volumes.delete(name);
  }

  async mount(name: string, id: string): Promise<string> {
    await this.#enter('mount', name, id);
    this.#require(name).mounted = true;
    this.mounts.set(name, (this.mounts.get(name) ?? 0) + 1);
    return this.#mountpoint(name);
  }

  async unmount(name: string, id: string): Promise<void> {
    await this.#enter('unmount', name, id);
    this.#require(name).mounted = false;
    this.unmounts.set(name, (this.unmounts.get(name) ?? 0) + 1);
  }

  async path(name: string): Promise<string | undefined> {
    await this.#enter('path', name);
    return this.#require(name).mounted ? this.#mountpoint(name) : undefined;
  }

  async get(name: string): Promise<BackendVolume | undefined> {
    await this.#enter('get', name);
    const v = this.volumes.get(name);
    return v && this.#describe(name, v);
  }

  async list(): Promise<BackendVolume[]> {
    await this.#enter('list');
    return [...this.volumes].sort(([a], [b]) => a.localeCompare(b)).map(([name, v]) => this.#describe(name, v));
  }

  async capabilities(): Promise<{ scope: VolumeScope }> {
    await this.#enter('capabilities');
    return { scope: this.#scope };
  }

  async #enter(method: BackendMethod, ...args: unknown[]): Promise<void> {
    this.calls.push({ method, args });
    await this.#faults.get(method)?.();
  }

  #require(name: string): StoredVolume {
    const v = this.volumes.get(name);
    if (!v) throw new ConvoyError('CONVOY_VOLUME_NOT_FOUND', `volume ${name} does not exist`, { hint: 'create it first' });
    return v;
  }

  #mountpoint(name: string): string {
    return `${this.#root}/${name}`;
  }

  #describe(name: string, v: StoredVolume): BackendVolume {
    const out: BackendVolume = { name, createdAt: v.createdAt, status: { opts: { ...v.opts } } };
    if (v.mounted) out.mountpoint = this.#mountpoint(name);
    return out;
  }
}
