// Killed key changes: `convoy-backup key change` and `key add` on an encrypted store (vfs or radosgw)
// are killed with SIGKILL at seeded points (kill-run.ts). A change writes the new key file, reads it
// back, then deletes the old one (packages/blockstore/src/crypto/keyring.ts), so afterwards: the
// old or the new passphrase opens the store, the old one still does unless the new key file was
// written whole and the old one deleted, every key file left opens with its passphrase, verify
// --read-data is clean and every backup restores bit-exact with a working passphrase, and running
// the command again with a working passphrase succeeds. Between trials the store is brought back
// to one key (`key remove` of the others).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CliResult } from './convoy.js';
import { Estimates } from './kill-point.js';
import { runKilled, runMeasured } from './kill-run.js';
import type { Rng } from './prng.js';
import type { HoldingProxy } from './s3-proxy.js';
import type { StoreKind, StoreTarget } from './stores.js';
import { Trial, runTrial } from './trial.js';
import { World } from './world.js';
import { twoVolumes } from './world-steps.js';
import type { Size } from './config.js';

export const KEY_OPS = ['change', 'add'] as const;
export type KeyOp = (typeof KEY_OPS)[number];

export interface KeyPlanItem {
  n: number;
  op: KeyOp;
  rng: Rng;
}

export function planKeys(rng: Rng, size: Size, kind: StoreKind): KeyPlanItem[] {
  const ops = KEY_OPS.flatMap((op) => Array.from({ length: size.keys[op][kind] }, () => op));
  return rng.shuffle(ops).map((op, n) => ({ n: n + 1, op, rng: rng.fork(`trial-${n + 1}`) }));
}

/** The key files of a store, by id, read raw (a killed writer's temporary file is not one). */
async function keyIds(store: StoreTarget): Promise<string[]> {
  return (await store.raw.list('keys/')).flatMap((k) => /^keys\/([0-9a-f]{16})\.json$/.exec(k)?.[1] ?? []);
}

interface KeyList {
  ok: boolean;
  /** The key the passphrase opened. */
  current: string | undefined;
  ids: string[];
  damaged: string[];
  result: CliResult;
}

/** Where a killed change or add left the key files. */
export function keyState(before: string, after: readonly string[]): string {
  const old = after.includes(before);
  const added = after.filter((id) => id !== before).length;
  if (old && added === 0) return 'no new key file';
  if (old) return 'new key file written, old one still there';
  if (added > 0) return 'old key file removed';
  return 'no key file left';
}

export class KeysCampaign {
  readonly world: World;
  readonly #label: string;
  readonly #resultsFile: string;
  readonly #proxy: HoldingProxy | undefined;
  readonly #size: Size;
  readonly #est = new Estimates();
  /** The store's environment without passphrases. */
  readonly #base: Record<string, string>;
  /** The passphrase of the store's one key between trials (the world's runs use it). */
  #pass = '';
  #passes = 0;

  constructor(label: string, store: StoreTarget, dir: string, size: Size, resultsFile: string, proxy: HoldingProxy | undefined) {
    this.#label = label;
    this.#resultsFile = resultsFile;
    this.#proxy = proxy;
    this.#size = size;
    this.#base = store.env;
    this.world = new World({
      store: { ...store, env: { ...store.env } },
      dir,
      leaseTtlMs: size.leaseTtlMs,
      timeoutMs: size.timeoutMs,
      encrypted: true,
    });
  }

  /** A new seeded passphrase (some with a space and a non-ASCII letter). */
  #newPass(rng: Rng): string {
    return `${this.#label}-${++this.#passes}-${rng.int(0, 2 ** 31)}${rng.chance(0.5) ? ' é' : ''}`;
  }

  #use(pass: string): void {
    this.#pass = pass;
    this.world.store.env.CONVOY_PASSWORD = pass;
  }

  #env(pass: string, newPass?: string): Record<string, string> {
    return { ...this.#base, CONVOY_PASSWORD: pass, ...(newPass === undefined ? {} : { CONVOY_NEW_PASSWORD: newPass }) };
  }

  async #keyList(trial: Trial | undefined, pass: string): Promise<KeyList> {
    const result = await this.world.run(trial, ['key', 'list', this.world.store.url, '--json'], { env: this.#env(pass) });
    const out = result.json as { keys?: { id: string; current: boolean }[]; damaged?: string[] } | undefined;
    const keys = out?.keys ?? [];
    return {
      ok: result.code === 0 && Array.isArray(out?.keys),
      current: keys.find((k) => k.current)?.id,
      ids: keys.map((k) => k.id),
      damaged: out?.damaged ?? [],
      result,
    };
  }

  /** An encrypted store with two volumes and three backups; one uninterrupted change and add (the first estimates). */
  async setup(rng: Rng): Promise<void> {
    const w = this.world;
    this.#use(this.#newPass(rng));
    const init = await w.run(undefined, ['init', w.store.url, '--encrypt', '--json']);
    if (init.code !== 0) throw new Error(`set-up init --encrypt failed: ${init.errorCode ?? init.code} ${init.errorMessage ?? ''}`);
    const [alpha, beta] = await twoVolumes(w, rng, { regions: this.#size.keys.regions, dirs: undefined });
    await w.create(undefined, alpha);
    await w.create(undefined, beta);
    await w.change(alpha, rng, 0.5);
    await w.create(undefined, alpha);
    for (const op of KEY_OPS) {
      const next = this.#newPass(rng);
      const r = await runMeasured(w, ['key', op, w.store.url, '--json'], this.#env(this.#pass, next), {
        est: this.#est,
        op,
        proxy: this.#proxy,
      });
      if (r.code !== 0) throw new Error(`set-up key ${op} failed: ${r.errorCode ?? r.code} ${r.errorMessage ?? r.stderr.slice(-300)}`);
      await this.#keepOnly(undefined, next);
    }
  }

  /** Makes `pass` the store's only passphrase: every other key removed with it (must succeed). */
  async #keepOnly(trial: Trial | undefined, pass: string): Promise<void> {
    const list = await this.#keyList(trial, pass);
    if (!list.ok || list.current === undefined) throw new Error(`key list failed: ${list.result.errorCode ?? list.result.code}`);
    for (const id of list.ids.filter((x) => x !== list.current)) {
      const r = await this.world.run(trial, ['key', 'remove', this.world.store.url, id, '--json'], { env: this.#env(pass) });
      if (r.code !== 0) throw new Error(`key remove ${id} failed: ${r.errorCode ?? r.code} ${r.errorMessage ?? ''}`);
    }
    this.#use(pass);
  }

  async trial(item: KeyPlanItem): Promise<void> {
    const trial = new Trial('keys', this.world.store.kind, `key-${item.op}`, `${this.#label} #${item.n} key ${item.op}`, item.rng.seed);
    this.world.note = `trial #${item.n} (key ${item.op})`;
    await runTrial(trial, this.#resultsFile, (t) => this.#run(t, item.op, item.rng));
  }

  async #run(trial: Trial, op: KeyOp, rng: Rng): Promise<void> {
    const w = this.world;
    const old = this.#pass;
    const oldId = (await keyIds(w.store))[0] ?? '';
    const next = this.#newPass(rng);
    // The passphrases come from the environment or from files (--password-file, --new-password-file).
    const args = ['key', op, w.store.url, '--json'];
    const env = this.#env(old, next);
    if (rng.chance(0.5)) {
      const file = path.join(w.dir, 'old-pass.txt');
      await fs.writeFile(file, `${old}\n`);
      args.push('--password-file', file);
      delete env.CONVOY_PASSWORD;
    }
    if (rng.chance(0.5)) {
      const file = path.join(w.dir, 'new-pass.txt');
      await fs.writeFile(file, next);
      args.push('--new-password-file', file);
      delete env.CONVOY_NEW_PASSWORD;
    }
    const killed = await runKilled(w, `key ${op}`, args, env, { rng, est: this.#est, op, proxy: this.#proxy });
    trial.ran(killed.result);
    trial.fault(killed.fault);
    const after = await keyIds(w.store);
    const state = keyState(oldId, after);
    trial.outcome(`${killed.kill.killed ? 'killed' : 'completed before the kill'}: ${state}`);
    if (killed.kill.killed) trial.measure('killedAtMs', Math.round(killed.kill.atMs ?? 0));
    if (killed.point.anchor === 'store-request') trial.measure('killedAtRequest', killed.point.request ?? 0);
    const completed = !killed.kill.killed;
    if (completed)
      trial.check('an uninterrupted run succeeds', killed.result.code === 0, `exit ${killed.result.code} ${killed.result.errorCode ?? ''}`);

    // Who can open the store now.
    const byOld = await this.#keyList(trial, old);
    const byNew = await this.#keyList(trial, next);
    const oldFile = after.includes(oldId);
    const newIds = after.filter((id) => id !== oldId);
    trial.check(
      'a killed key change or add locks no one out (the old or the new passphrase opens the store)',
      byOld.ok || byNew.ok,
      `neither opens it; key files left: ${after.join(', ') || 'none'} (${byOld.result.errorCode ?? ''} / ${byNew.result.errorCode ?? ''})`,
    );
    trial.check(
      'the old passphrase opens the store unless the new key file was written and the old one removed',
      byOld.ok || (byNew.ok && !oldFile),
      `the old passphrase fails (${byOld.result.errorCode ?? byOld.result.code}) and ${oldFile ? 'its key file is still there' : 'the new one does not open it'}`,
    );
    trial.check(
      'every key file left opens with its passphrase (none damaged, none stray)',
      (!oldFile || byOld.current === oldId) &&
        newIds.length <= 1 &&
        newIds.every((id) => byNew.current === id) &&
        [...byOld.damaged, ...byNew.damaged].length === 0,
      () =>
        `key files ${after.join(', ')}; the old passphrase opens ${byOld.current ?? 'none'}, the new one ${byNew.current ?? 'none'}; damaged: ${[...byOld.damaged, ...byNew.damaged].join(', ') || 'none'}`,
    );
    if (op === 'add')
      trial.check('a killed key add never takes a passphrase away', byOld.ok, `${byOld.result.errorCode ?? byOld.result.code}`);
    if (completed && killed.result.code === 0) {
      trial.check(
        `a completed key ${op} did what it says`,
        byNew.ok && (op === 'add' ? byOld.ok && oldFile : !byOld.ok && !oldFile),
        `after it the old passphrase ${byOld.ok ? 'opens' : 'does not open'} the store, the new one ${byNew.ok ? 'opens' : 'does not open'} it`,
      );
    }
    if (!byOld.ok && !byNew.ok) return;

    // With a working passphrase: nothing else changed.
    const working = byOld.ok ? old : next;
    this.#use(working);
    await w.verifyClean(trial);
    await w.reconcile(trial);
    await w.restoreAll(trial);

    // Running it again: the change from the passphrase that works (to a fresh one), the add as it was.
    const target = op === 'change' ? this.#newPass(rng) : next;
    const from = op === 'change' ? working : old;
    const again = await runMeasured(w, ['key', op, w.store.url, '--json'], this.#env(from, target), {
      est: this.#est,
      op,
      proxy: this.#proxy,
    });
    trial.ran(again);
    trial.measure('rerunMs', Math.round(again.durationMs));
    const rerunOk = trial.check(
      're-running the interrupted operation succeeds',
      again.code === 0,
      `exit ${again.code} ${again.errorCode ?? ''} ${again.errorMessage ?? again.stderr.slice(-300)}`,
    );
    if (!rerunOk) return;
    const byTarget = await this.#keyList(trial, target);
    const byFrom = await this.#keyList(trial, from);
    trial.check(
      `after the re-run the new passphrase opens the store${op === 'change' ? ' and the one it was run with no longer does' : ''}`,
      byTarget.ok && (op === 'change' ? !byFrom.ok : byFrom.ok),
      `new: ${byTarget.ok ? 'opens' : (byTarget.result.errorCode ?? 'fails')}; the one it ran with: ${byFrom.ok ? 'opens' : (byFrom.result.errorCode ?? 'fails')}`,
    );
    await this.#keepOnly(trial, target);
    const ids = await keyIds(w.store);
    trial.check('`key remove` leaves the store one key', ids.length === 1, `key files: ${ids.join(', ')}`);
  }

  /** After every trial: a wrong passphrase is refused, verify is clean, every backup restores bit-exact. */
  async final(rng: Rng): Promise<void> {
    const w = this.world;
    const trial = new Trial('keys', w.store.kind, 'final', `${this.#label}: the store after every trial`, 0);
    await runTrial(trial, this.#resultsFile, async () => {
      const wrong = await this.#keyList(trial, this.#newPass(rng));
      trial.check(
        'a wrong passphrase is refused with CONVOY_PASSWORD_WRONG',
        !wrong.ok && wrong.result.errorCode === 'CONVOY_PASSWORD_WRONG',
        `exit ${wrong.result.code} ${wrong.result.errorCode ?? ''}`,
      );
      await w.verifyClean(trial);
      await w.reconcile(trial);
      await w.restoreAll(trial);
      trial.outcome(`${w.backups().length} backups verified and restored with the last passphrase`);
    });
  }
}
