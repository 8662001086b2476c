import { bodyToBuffer } from '../body.js';
import { ObjectStoreError } from '../errors.js';
import { sleep } from '../retry.js';
import type {
  CleanupStaleOptions,
  CleanupStaleResult,
  DeleteOptions,
  GetOptions,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutOptions,
} from '../types.js';

export type StoreOp = 'get' | 'put' | 'stat' | 'list' | 'delete';

/**
 * - `error`: fail before the operation reaches the store (nothing happened).
 * - `lost-ack`: the operation happens, then the caller gets an error (as a reply lost on the wire).
 * - `tear`: put writes only the first half of the body, then fails (a non-atomic store's torn write);
 *   get returns only the first half of the data.
 * - `corrupt`: get returns the data with one byte flipped.
 * - `drop`: put reports success and stores nothing (a lying server: acknowledged, never stored);
 *   delete reports success and deletes nothing.
 * - `delay`: wait `delayMs`, then proceed normally.
 * - `pause`: call `onPause`, wait for `gate()`, then proceed normally (the operation really
 *   happens): holds a call at the store for a deterministic race test (see Gate). If `gate()`
 *   rejects, the call fails with that error before reaching the store.
 */
export type FaultKind = 'error' | 'lost-ack' | 'tear' | 'corrupt' | 'drop' | 'delay' | 'pause';

interface FaultRuleBase {
  op: StoreOp;
  /** Trigger on the nth matching call (1-based); default: every matching call. */
  nth?: number;
  /** How many times the rule fires before it is spent (default 1 with `nth`, unlimited without). */
  times?: number;
  /** Only calls whose key (or any key, for delete; prefix, for list) matches. */
  key?: RegExp;
}

export interface PauseFaultRule extends FaultRuleBase {
  kind: 'pause';
  /** The call proceeds when this resolves (e.g. `() => gate.wait()`). */
  gate: () => Promise<void>;
  /** Called as the call reaches the store, before it waits: the key, or the first key / the prefix. */
  onPause?: (op: StoreOp, key: string) => void;
}

export interface OtherFaultRule extends FaultRuleBase {
  kind: Exclude<FaultKind, 'pause'>;
  delayMs?: number;
  /** The error to throw (default: a retryable-looking ObjectStoreError). */
  error?: () => Error;
}

export type FaultRule = PauseFaultRule | OtherFaultRule;

export class InjectedFault extends ObjectStoreError {
  constructor(op: StoreOp, key: string, kind: FaultKind) {
    super(`injected ${kind} fault on ${op} ${key}`, { code: 'CONVOY_TEST_INJECTED_FAULT' });
  }
}

type LiveRule = FaultRule & { seen: number; fired: number };

/**
 * Wraps a store: counts every call (and the keys and bytes written) and injects faults on a
 * schedule, for crash, retry and corruption tests of the layers above.
 */
export class FaultyObjectStore implements ObjectStore {
  readonly location: string;
  readonly calls: Record<StoreOp, number> = { get: 0, put: 0, stat: 0, list: 0, delete: 0 };
  /** Keys successfully written, in order. */
  readonly putKeys: string[] = [];
  bytesPut = 0;
  readonly #inner: ObjectStore;
  readonly #rules: LiveRule[] = [];
  /** Present exactly when the inner store has it (callers feature-test it); delegates unchanged. */
  readonly cleanupStale?: (options: CleanupStaleOptions) => Promise<CleanupStaleResult>;

  constructor(inner: ObjectStore, rules: FaultRule[] = []) {
    this.#inner = inner;
    this.location = inner.location;
    const cleanup = inner.cleanupStale;
    if (cleanup !== undefined) this.cleanupStale = (options) => cleanup.call(inner, options);
    rules.forEach((r) => this.addFault(r));
  }

  addFault(rule: FaultRule): this {
    this.#rules.push({ ...rule, seen: 0, fired: 0 });
    return this;
  }

  clearFaults(): void {
    this.#rules.length = 0;
  }

  resetCounts(): void {
    for (const k of Object.keys(this.calls) as StoreOp[]) this.calls[k] = 0;
    this.putKeys.length = 0;
    this.bytesPut = 0;
  }

  async get(key: string, options?: GetOptions): Promise<Buffer> {
    this.calls.get++;
    const rule = await this.#before('get', [key]);
    const data = await this.#inner.get(key, options);
    if (rule?.kind === 'lost-ack') throw this.#error(rule, 'get', key);
    if (rule?.kind === 'tear') return data.subarray(0, Math.floor(data.length / 2));
    if (rule?.kind === 'corrupt' && data.length > 0) {
      const bad = Buffer.from(data);
      bad[bad.length >> 1] = (bad[bad.length >> 1] ?? 0) ^ 0xff;
      return bad;
    }
    return data;
  }

  async put(key: string, body: PutBody, options?: PutOptions): Promise<void> {
    this.calls.put++;
    const rule = await this.#before('put', [key]);
    const data = await bodyToBuffer(body);
    if (rule?.kind === 'drop') return;
    if (rule?.kind === 'tear') {
      await this.#inner.put(key, data.subarray(0, Math.floor(data.length / 2)), { ...options, sha256: undefined }); // torn: not the body's hash
      throw this.#error(rule, 'put', key);
    }
    await this.#inner.put(key, data, options);
    this.putKeys.push(key);
    this.bytesPut += data.length;
    if (rule?.kind === 'lost-ack') throw this.#error(rule, 'put', key);
  }

  async stat(key: string, options?: { signal?: AbortSignal }): Promise<ObjectInfo | undefined> {
    this.calls.stat++;
    const rule = await this.#before('stat', [key]);
    const out = await this.#inner.stat(key, options);
    if (rule?.kind === 'lost-ack') throw this.#error(rule, 'stat', key);
    return out;
  }

  async *list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    this.calls.list++;
    const rule = await this.#before('list', [prefix]);
    let n = 0;
    for await (const o of this.#inner.list(prefix, options)) {
      // lost-ack on list: the connection drops after the first page's worth of entries
      if (rule?.kind === 'lost-ack' && n++ >= 1) throw this.#error(rule, 'list', prefix);
      yield o;
    }
  }

  async delete(keys: readonly string[], options?: DeleteOptions): Promise<void> {
    this.calls.delete++;
    const rule = await this.#before('delete', keys);
    if (rule?.kind === 'drop') return;
    if (rule?.kind === 'tear') {
      await this.#inner.delete(keys.slice(0, Math.floor(keys.length / 2)), options);
      throw this.#error(rule, 'delete', keys[0] ?? '');
    }
    await this.#inner.delete(keys, options);
    if (rule?.kind === 'lost-ack') throw this.#error(rule, 'delete', keys[0] ?? '');
  }

  async flush(options?: { signal?: AbortSignal }): Promise<void> {
    await this.#inner.flush?.(options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** Finds the rule that fires for this call, applies delay/pause/error, returns it for the others. */
  async #before(op: StoreOp, keys: readonly string[]): Promise<LiveRule | undefined> {
    for (const rule of this.#rules) {
      if (rule.op !== op) continue;
      if (rule.key !== undefined && !keys.some((k) => rule.key?.test(k) === true)) continue;
      rule.seen++;
      const limit = rule.times ?? (rule.nth === undefined ? Infinity : 1);
      if (rule.fired >= limit) continue;
      if (rule.nth !== undefined && rule.seen < rule.nth) continue;
      rule.fired++;
      if (rule.kind === 'delay') {
        await sleep(rule.delayMs ?? 10);
        continue;
      }
      if (rule.kind === 'pause') {
        rule.onPause?.(op, keys[0] ?? '');
        await rule.gate();
        continue;
      }
      if (rule.kind === 'error') throw this.#error(rule, op, keys[0] ?? '');
      return rule;
    }
    return undefined;
  }

  #error(rule: FaultRule, op: StoreOp, key: string): Error {
    return (rule.kind === 'pause' ? undefined : rule.error?.()) ?? new InjectedFault(op, key, rule.kind);
  }
}
