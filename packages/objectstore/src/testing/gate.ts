/**
 * A gate for deterministic race tests, instead of sleeps: calls of `wait()` are held until
 * `open()`, and the test learns that a call got there from `reached` (or `whenReached(n)`).
 *
 * ```ts
 * const g = new Gate();
 * const store = new FaultyObjectStore(inner, [{ op: 'put', kind: 'pause', gate: () => g.wait() }]);
 * const put = store.put('k', data);
 * await g.reached; // the put is at the store and held there
 * // … do the racing thing …
 * g.open();
 * await put;
 * ```
 */
export class Gate {
  /** Resolves once the first call has reached the gate. */
  readonly reached: Promise<void>;
  #open = false;
  #arrived = 0;
  readonly #held: (() => void)[] = [];
  readonly #watchers: { n: number; resolve: () => void }[] = [];

  constructor() {
    this.reached = this.whenReached(1);
  }

  /** Held until `open()`; once the gate is open, passes straight through. */
  wait(): Promise<void> {
    this.#arrived++;
    const held = this.#open ? Promise.resolve() : new Promise<void>((resolve) => this.#held.push(resolve));
    for (const w of this.#watchers.filter((x) => x.n <= this.#arrived)) {
      this.#watchers.splice(this.#watchers.indexOf(w), 1);
      w.resolve();
    }
    return held;
  }

  /** Resolves once `n` calls have reached the gate (held, or passed through after `open()`). */
  whenReached(n: number): Promise<void> {
    if (this.#arrived >= n) return Promise.resolve();
    return new Promise((resolve) => this.#watchers.push({ n, resolve }));
  }

  /** Lets every held call through, and every later one. */
  open(): void {
    this.#open = true;
    for (const release of this.#held.splice(0)) release();
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Calls held right now. */
  get waiting(): number {
    return this.#held.length;
  }
}
