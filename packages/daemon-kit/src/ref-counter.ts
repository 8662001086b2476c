// Which callers (Docker's Mount `ID`s) hold each volume mounted. Pure in-memory state that
// serialises to `{ [volume]: [id, …] }`; the daemon saves it through `onChange` and loads it with
// `fromJSON` after a restart, so a restarted daemon neither mounts twice nor unmounts under a
// running container.
import { z } from 'zod';
import { MountStateInvalidError } from './errors.js';

/** The serialised form: volume name → caller IDs, in the order they mounted. No empty arrays. */
export type MountRefState = Record<string, string[]>;

/** Called with a copy of the whole state after every change; may return a promise (a durable save). */
export type MountRefListener = (state: MountRefState) => void | Promise<void>;

export interface MountRefCounterOptions {
  onChange?: MountRefListener;
}

export interface AddResult {
  /** False when this ID already held the volume (a repeated Mount). */
  added: boolean;
  /** True when no caller held the volume before: the volume must be mounted. */
  first: boolean;
  /** Settles when every onChange listener has (one rejection rejects it). */
  saved: Promise<void>;
}

export interface RemoveResult {
  /** False when this ID did not hold the volume (an unknown Unmount, harmless). */
  removed: boolean;
  /** True when this was the last caller: the volume must be unmounted. */
  last: boolean;
  saved: Promise<void>;
}

export class MountRefCounter {
  readonly #refs = new Map<string, string[]>();
  readonly #listeners = new Set<MountRefListener>();

  constructor(state: MountRefState = {}, options: MountRefCounterOptions = {}) {
    for (const [name, ids] of Object.entries(parseState(state))) this.#refs.set(name, ids);
    if (options.onChange) this.#listeners.add(options.onChange);
  }

  /** Loads saved state (for example JSON.parse of a file); throws MountStateInvalidError if malformed. */
  static fromJSON(value: unknown, options: MountRefCounterOptions = {}): MountRefCounter {
    return new MountRefCounter(parseState(value), options);
  }

  /** A copy of the state, volumes sorted by name; JSON.stringify(counter) uses it. */
  toJSON(): MountRefState {
    const names = [...this.#refs.keys()].sort();
    return Object.fromEntries(names.map((name) => [name, [...(this.#refs.get(name) ?? [])]]));
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: MountRefListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  ids(name: string): string[] {
    return [...(this.#refs.get(name) ?? [])];
  }

  count(name: string): number {
    return this.#refs.get(name)?.length ?? 0;
  }

  isMounted(name: string): boolean {
    return this.count(name) > 0;
  }

  has(name: string, id: string): boolean {
    return this.#refs.get(name)?.includes(id) ?? false;
  }

  add(name: string, id: string): AddResult {
    const ids = this.#refs.get(name);
    if (ids?.includes(id)) return { added: false, first: false, saved: Promise.resolve() };
    if (ids) ids.push(id);
    else this.#refs.set(name, [id]);
    return { added: true, first: ids === undefined, saved: this.#changed() };
  }

  remove(name: string, id: string): RemoveResult {
    const ids = this.#refs.get(name);
    const at = ids?.indexOf(id) ?? -1;
    if (ids === undefined || at < 0) return { removed: false, last: false, saved: Promise.resolve() };
    ids.splice(at, 1);
    if (ids.length === 0) this.#refs.delete(name);
    return { removed: true, last: ids.length === 0, saved: this.#changed() };
  }

  /** Drops every caller of a volume (it was removed, or an operator cleared a stale reference). */
  forget(name: string): { removed: string[]; saved: Promise<void> } {
    const ids = this.#refs.get(name);
    if (ids === undefined) return { removed: [], saved: Promise.resolve() };
    this.#refs.delete(name);
    return { removed: ids, saved: this.#changed() };
  }

  #changed(): Promise<void> {
    const state = this.toJSON();
    const runs = [...this.#listeners].map(async (listener) => listener(structuredClone(state)));
    const saved = Promise.all(runs).then(() => undefined);
    // A caller that ignores `saved` must not turn a failed save into an unhandled rejection.
    saved.catch(() => undefined);
    return saved;
  }
}

/**
 * The saved state's schema, over its entries (not z.record, which would drop a "__proto__" key:
 * Object.entries and fromEntries keep it as data, never a prototype).
 */
const entriesSchema = z.array(z.tuple([z.string().min(1), z.array(z.string().min(1))]));

function parseState(value: unknown): MountRefState {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MountStateInvalidError('not an object');
  const entries = Object.entries(value);
  const parsed = entriesSchema.safeParse(entries);
  if (!parsed.success) {
    const [i, field, j] = parsed.error.issues[0]?.path ?? [];
    const name = JSON.stringify(entries[Number(i)]?.[0]);
    throw new MountStateInvalidError(
      field === 0
        ? 'empty volume name'
        : j === undefined
          ? `volume ${name}: IDs are not an array`
          : `volume ${name}: an ID is not a non-empty string`,
    );
  }
  const out = parsed.data.map(([name, ids]): [string, string[]] => [name, [...new Set(ids)]]).filter(([, ids]) => ids.length > 0);
  return Object.fromEntries(out);
}
