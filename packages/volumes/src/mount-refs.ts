import path from 'node:path';
import { ObjectNotFoundError, parseJsonBytes, type ObjectStore } from '@convoy/objectstore';
import { MountRefCounter } from '@convoy/daemon-kit';
import { VolumeError } from './errors.js';

const KEY = 'state/mounts.json';

/**
 * Who holds each volume mounted — Docker's mount IDs (one per container) and `cli` for
 * `convoy mount` — kept in a MountRefCounter and written atomically after every change, so a
 * daemon killed with -9 knows after its restart which mounts Docker still expects. The daemon
 * hands the same counter to the Docker plugin handler, so there is one count, not two.
 */
export class MountRefs {
  readonly counter: MountRefCounter;
  readonly #store: ObjectStore;
  #writing: Promise<void> = Promise.resolve();

  private constructor(store: ObjectStore, state: unknown) {
    this.#store = store;
    this.counter = MountRefCounter.fromJSON(state, { onChange: () => this.#save() });
  }

  /**
   * Loads the saved state from `store` (whose directory is `dir`, for naming the file). A corrupt
   * file is CONVOY_STATE_INVALID: starting without it could delete a volume that containers here
   * still use (nothing would say they hold it), so the daemon does not start on it.
   */
  static async load(store: ObjectStore, dir: string): Promise<MountRefs> {
    let bytes: Buffer;
    try {
      bytes = await store.get(KEY);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return new MountRefs(store, {});
      throw err;
    }
    const file = path.join(dir, ...KEY.split('/'));
    try {
      return new MountRefs(store, parseJsonBytes(bytes));
    } catch (err) {
      const reason = err instanceof SyntaxError || err instanceof TypeError ? 'not valid JSON' : (err as Error).message;
      throw new VolumeError('CONVOY_STATE_INVALID', `mount state ${file} is corrupt: ${reason}`, {
        hint: `it records which containers on this host hold which volumes mounted, and without it a volume in use could be deleted, so convoy-daemon does not start on it. Repair it (an object of volume name → array of Docker mount IDs), or, if no container on this host uses a convoy volume (docker ps), move it away and start again`,
        details: { file },
        cause: err,
      });
    }
  }

  holders(volume: string): string[] {
    return this.counter.ids(volume);
  }

  volumes(): string[] {
    return Object.keys(this.counter.toJSON());
  }

  /** Adds a holder; true if it is the first (the caller mounts). Persisted before returning. */
  async add(volume: string, id: string): Promise<boolean> {
    const r = this.counter.add(volume, id);
    await r.saved;
    return r.first;
  }

  /** Removes a holder; true if it was the last (the caller unmounts). Unknown ids are harmless. */
  async remove(volume: string, id: string): Promise<boolean> {
    const r = this.counter.remove(volume, id);
    await r.saved;
    return r.last;
  }

  /** Drops every holder of a volume (it was deleted). */
  async clear(volume: string): Promise<void> {
    await this.counter.forget(volume).saved;
  }

  /** Writes the latest state; writes are chained so an older state never lands after a newer one. */
  #save(): Promise<void> {
    const next = this.#writing.then(() => this.#store.put(KEY, Buffer.from(`${JSON.stringify(this.counter.toJSON(), null, 1)}\n`)));
    this.#writing = next.catch(() => undefined);
    return next;
  }
}
