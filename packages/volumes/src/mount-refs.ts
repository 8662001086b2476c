import { ObjectNotFoundError, type ObjectStore } from '@convoy/objectstore';

const KEY = 'state/mounts.json';

/**
 * Who holds each volume mounted: Docker's mount IDs (one per container) and `cli` for
 * `convoy mount`. The first holder mounts, the last one out unmounts. Written atomically on every
 * change, so a daemon killed with -9 knows after its restart which mounts Docker still expects.
 */
export class MountRefs {
  readonly #store: ObjectStore;
  #refs: Map<string, Set<string>>;

  private constructor(store: ObjectStore, refs: Map<string, Set<string>>) {
    this.#store = store;
    this.#refs = refs;
  }

  static async load(store: ObjectStore): Promise<MountRefs> {
    const refs = new Map<string, Set<string>>();
    try {
      const v = JSON.parse((await store.get(KEY)).toString()) as Record<string, unknown>;
      for (const [vol, ids] of Object.entries(v)) {
        if (Array.isArray(ids)) refs.set(vol, new Set(ids.filter((x): x is string => typeof x === 'string')));
      }
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError)) throw err;
    }
    return new MountRefs(store, refs);
  }

  holders(volume: string): string[] {
    return [...(this.#refs.get(volume) ?? [])].sort();
  }

  volumes(): string[] {
    return [...this.#refs.keys()].filter((v) => (this.#refs.get(v)?.size ?? 0) > 0).sort();
  }

  /** Adds a holder; true if it is the first (the caller mounts). Persisted before returning. */
  async add(volume: string, id: string): Promise<boolean> {
    const set = this.#refs.get(volume) ?? new Set<string>();
    const first = set.size === 0;
    if (set.has(id)) return false;
    set.add(id);
    this.#refs.set(volume, set);
    await this.#save();
    return first;
  }

  /** Removes a holder; true if it was the last (the caller unmounts). Unknown ids are harmless. */
  async remove(volume: string, id: string): Promise<boolean> {
    const set = this.#refs.get(volume);
    if (set === undefined || !set.delete(id)) return false;
    if (set.size === 0) this.#refs.delete(volume);
    await this.#save();
    return set.size === 0;
  }

  /** Drops every holder of a volume (it was deleted). */
  async clear(volume: string): Promise<void> {
    if (this.#refs.delete(volume)) await this.#save();
  }

  async #save(): Promise<void> {
    const out: Record<string, string[]> = {};
    for (const v of this.volumes()) out[v] = this.holders(v);
    await this.#store.put(KEY, Buffer.from(`${JSON.stringify(out, null, 1)}\n`));
  }
}
