// Campaign 3, corruption: a healthy store (volumes `damaged` and `healthy`, two backups each,
// two generations of the reference index) is copied, one object of the copy is damaged
// (damage.ts), and then: verify --read-data names each damaged object (exit 3); restoring a
// backup that needs it fails loudly, naming it; every other backup still restores bit-exact;
// backups, deletes and maintenance of the healthy volume go on; and after all that nothing that
// was whole has been lost.
import fs from 'node:fs/promises';
import path from 'node:path';
import { mutate, writeImage, type ImageState } from './images.js';
import { DAMAGE_KINDS, inflict, type Damage, type DamageKind } from './damage.js';
import type { Rng } from './prng.js';
import type { StoreKind, StoreTarget } from './stores.js';
import { Trial, runTrial } from './trial.js';
import { World, type Backup, type Volume } from './world.js';
import type { Size } from './config.js';

export interface CorruptionSpec {
  n: number;
  store: StoreKind;
  kind: DamageKind;
  rng: Rng;
}

/** CI: every kind on vfs, two on radosgw; full: every kind `instancesPerKind` times on each. */
export function planCorruption(rng: Rng, size: Size): CorruptionSpec[] {
  const out: CorruptionSpec[] = [];
  for (const store of ['vfs', 's3'] as const) {
    const kinds =
      size.name === 'full'
        ? Array.from({ length: size.corruption.instancesPerKind[store] }, () => [...DAMAGE_KINDS]).flat()
        : store === 'vfs'
          ? [...DAMAGE_KINDS]
          : rng.fork('s3-kinds').shuffle(DAMAGE_KINDS).slice(0, 2);
    kinds.forEach((kind, i) => out.push({ n: i + 1, store, kind, rng: rng.fork(`${store}-${i + 1}-${kind}`) }));
  }
  return out;
}

const ids = (s: ImageState): Set<string> => new Set(s.blockIds.filter((id): id is string => id !== null));
const hasOwn = (a: ImageState, b: ImageState): boolean => [...ids(a)].some((id) => !ids(b).has(id));

/** The healthy store every trial of one store kind copies. */
export async function buildBaseline(store: StoreTarget, dir: string, size: Size, rng: Rng): Promise<World> {
  const w = new World({ store, dir, leaseTtlMs: size.leaseTtlMs, timeoutMs: size.timeoutMs });
  const damaged = await w.addVolume('damaged', rng, size.corruption.regions);
  const healthy = await w.addVolume('healthy', rng, size.corruption.regions);
  let next = mutate(rng, damaged.state, 0.5).state;
  while (!hasOwn(damaged.state, next) || !hasOwn(next, damaged.state)) next = mutate(rng, damaged.state, 0.5).state;
  await w.create(undefined, damaged);
  await w.create(undefined, healthy);
  await mustSucceed(w.run(undefined, ['maintenance', store.url, '--json']), 'maintenance');
  await w.setState(damaged, next);
  await w.create(undefined, damaged);
  await w.setState(healthy, mutate(rng, healthy.state, 0.5).state);
  await w.create(undefined, healthy);
  await mustSucceed(w.run(undefined, ['maintenance', store.url, '--json']), 'maintenance');
  return w;
}

async function mustSucceed(p: ReturnType<World['run']>, what: string): Promise<void> {
  const r = await p;
  if (r.code !== 0) throw new Error(`set-up ${what} failed: ${r.errorCode ?? r.code} ${r.errorMessage ?? r.stderr.slice(-300)}`);
}

/** A copy of the baseline store with its own model (backup URLs rewritten) and source files. */
async function copyWorld(base: World, name: string, dir: string): Promise<World> {
  const store = await base.store.copy(name);
  const w = new World({ ...base.options, store, dir });
  await fs.mkdir(dir, { recursive: true });
  for (const v of base.volumes.values()) {
    const copy: Volume = {
      name: v.name,
      source: path.join(dir, `${v.name}.img`),
      state: v.state,
      backups: v.backups.map((b) => ({ ...b, url: b.url.replace(base.store.url, store.url) })),
    };
    await writeImage(copy.source, copy.state);
    w.volumes.set(v.name, copy);
  }
  return w;
}

const names = (text: string | undefined, keys: readonly string[]): boolean =>
  text !== undefined && keys.some((k) => text.includes(k) || text.includes(path.basename(k).replace(/\.(blk|json|blocks|run)$/, '')));

export async function corruptionTrial(spec: CorruptionSpec, base: World, dir: string, resultsFile: string): Promise<void> {
  const trial = new Trial('corruption', spec.store, spec.kind, `corruption ${spec.store} #${spec.n} ${spec.kind}`, spec.rng.seed);
  let w: World | undefined;
  await runTrial(trial, resultsFile, async () => {
    const rng = spec.rng;
    w = await copyWorld(base, `corrupt-${spec.n}-${spec.kind}`, dir);
    const world = w;
    const damaged = world.volume('damaged');
    const healthy = world.volume('healthy');
    const damage = await inflict(spec.kind, rng, { raw: world.store.raw, victims: damaged.backups, all: world.backups() });
    trial.fault(damage.text);
    const headerBefore = await world.store.raw.get('convoy.json');

    await checkVerify(trial, world, damage);
    // Restoring what needs the damaged object fails loudly, naming it; everything else restores.
    for (const b of damage.affected) {
      const r = await world.run(trial, ['restore', b.url, path.join(dir, 'affected.img'), '--json']);
      trial.check('restore of a damaged backup fails', r.code !== 0 && r.code !== null, `restore of ${b.volume}/${b.id} exited ${r.code}`);
      trial.check(
        'the failed restore names the damaged object',
        names(r.errorMessage, damage.keys),
        `message: ${r.errorMessage ?? r.stderr.slice(-300)}; damaged: ${damage.keys.join(', ')}`,
      );
      world.forget(b);
    }
    if (damage.storeWide) {
      await checkRefusals(trial, world, damage, headerBefore);
      trial.outcome('every command refuses the store, naming convoy.json');
      return;
    }
    await world.restoreAll(trial);
    await checkOthersGoOn(trial, world, damage, healthy, damaged, rng);
    // Nothing that was whole is lost, and the damage did not spread.
    await checkVerify(trial, world, damage, true);
    await world.restoreAll(trial);
    // The way out the CLI offers for this damage; afterwards the store is whole again.
    const how = await recover(trial, world, damage);
    trial.outcome(
      `named by verify${damage.affected.length > 0 ? ' and restore' : ''}; the other volume went on; nothing else lost; recovered with ${how}`,
    );
  });
  await w?.store.dispose().catch(() => undefined);
}

interface VerifyJson {
  ok?: boolean;
  problems?: { key: string; kind: string; message: string }[];
}

/** verify --read-data: exit 3 naming every damaged object; after the trial (`after`), nothing but them. */
async function checkVerify(trial: Trial, w: World, damage: Damage, after = false): Promise<void> {
  const r = await w.run(trial, ['verify', w.store.url, '--read-data', '--json']);
  const out = r.json as VerifyJson | undefined;
  const problems = out?.problems ?? [];
  const keys = problems.map((p) => p.key);
  if (after) {
    const extra = keys.filter((k) => !damage.keys.includes(k));
    trial.check('the damage did not spread (verify names nothing else)', extra.length === 0, `verify now also names ${extra.join(', ')}`);
    return;
  }
  if (damage.storeWide) {
    trial.check(
      'verify refuses the store, naming the header',
      r.code !== 0 && names(r.errorMessage ?? r.stderr, damage.keys),
      `exit ${r.code}: ${r.errorMessage ?? r.stderr.slice(-300)}`,
    );
    return;
  }
  trial.check(
    'verify exits 3',
    r.code === 3,
    `exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? ''} problems: ${keys.join(', ') || 'none'}`,
  );
  for (const key of damage.keys)
    trial.check('verify names the damaged object', keys.includes(key), `${key} is not among the problems (${keys.join(', ') || 'none'})`);
  const extra = keys.filter((k) => !damage.keys.includes(k));
  trial.check('verify names nothing undamaged', extra.length === 0, `also named: ${extra.join(', ')}`);
}

/** A garbled header: every command fails naming convoy.json, and none rewrites it. */
async function checkRefusals(trial: Trial, w: World, damage: Damage, headerBefore: Buffer | undefined): Promise<void> {
  const v = w.volume('healthy');
  const victim = damage.affected.find((b) => b.volume === 'healthy') as Backup;
  const runs: [string, string[]][] = [
    ['create', w.createArgs(v)],
    ['delete', ['delete', victim.url, '--json']],
    ['maintenance', ['maintenance', w.store.url, '--json']],
    ['list', ['list', w.store.url, '--json']],
  ];
  for (const [what, args] of runs) {
    const r = await w.run(trial, args);
    trial.check(
      `${what} refuses a store with a garbled header, naming it`,
      r.code !== 0 && names(r.errorMessage ?? r.stderr, damage.keys),
      `exit ${r.code}: ${r.errorMessage ?? r.stderr.slice(-300)}`,
    );
  }
  const after = await w.store.raw.get('convoy.json');
  trial.check(
    'nothing rewrote the garbled header',
    after !== undefined && headerBefore !== undefined && after.equals(headerBefore),
    'convoy.json changed',
  );
}

/**
 * Recovery: `maintenance --rebuild-index` for index damage, `repair --source` (a file holding the
 * backup's content) for damaged blocks, `delete` for a backup whose manifest or block map is gone.
 * Then two full maintenances must succeed, verify --read-data be clean and everything restore.
 */
async function recover(trial: Trial, w: World, damage: Damage): Promise<string> {
  let how: string;
  if (damage.index) {
    how = 'maintenance --rebuild-index';
    const r = await w.run(trial, ['maintenance', w.store.url, '--rebuild-index', '--json']);
    trial.check(
      'maintenance --rebuild-index recovers a damaged index',
      r.code === 0,
      `exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? ''}`,
    );
  } else if (damage.kind.startsWith('block-')) {
    how = 'repair --source';
    let last: number | null = null;
    for (const b of damage.affected) {
      const source = path.join(w.dir, `source-${b.id}.img`);
      await writeImage(source, b.state);
      last = (await w.run(trial, ['repair', w.store.url, '--source', source, '--volume', b.volume, '--read-data', '--json'])).code;
    }
    trial.check('repair from a source that holds the blocks leaves no backup damaged', last === 0, `the last repair exited ${last}`);
    for (const b of damage.affected) {
      const v = w.volume(b.volume);
      v.backups.push(b);
      v.backups.sort((x, y) => (x.id < y.id ? -1 : 1));
    }
  } else {
    how = 'delete of the damaged backup';
    for (const b of damage.affected) {
      const r = await w.run(trial, ['delete', b.url, '--json']);
      trial.check(
        'a backup whose manifest or block map is damaged can be deleted',
        r.code === 0,
        `exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? ''}`,
      );
    }
  }
  for (let i = 0; i < 2; i++) {
    const r = await w.run(trial, ['maintenance', w.store.url, '--full', '--grace', '0s', '--json']);
    trial.check(
      'full maintenance succeeds after the recovery',
      r.code === 0,
      `exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? ''}`,
    );
  }
  await w.verifyClean(trial);
  await w.restoreAll(trial);
  return how;
}

/** The healthy volume: a backup, a restore, a delete, quick and full maintenance; and a new backup of the damaged volume. */
async function checkOthersGoOn(trial: Trial, w: World, damage: Damage, healthy: Volume, damaged: Volume, rng: Rng): Promise<void> {
  const ok = (what: string, r: Awaited<ReturnType<World['run']>>): boolean =>
    trial.check(`${what} goes on`, r.code === 0, `exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? r.stderr.slice(-300)}`);
  await w.setState(healthy, mutate(rng, healthy.state, 0.5).state);
  const created = await w.run(trial, w.createArgs(healthy));
  if (ok('a backup of the healthy volume', created))
    await w.restoreExact(trial, w.adopt(healthy, created, healthy.state), path.join(w.dir, 'new.img'));
  const oldest = healthy.backups[0] as Backup;
  if (ok('a delete in the healthy volume', await w.run(trial, ['delete', oldest.url, '--json']))) w.forget(oldest);
  // The damaged volume's next backup (its source still holds the damaged blocks' content).
  const again = await w.run(trial, w.createArgs(damaged));
  if (ok('a backup of the damaged volume', again))
    await w.restoreExact(trial, w.adopt(damaged, again, damaged.state), path.join(w.dir, 'new.img'));
  for (const args of [
    ['maintenance', w.store.url, '--json'],
    ['maintenance', w.store.url, '--full', '--grace', '0s', '--json'],
    ['maintenance', w.store.url, '--full', '--grace', '0s', '--json'],
  ]) {
    const r = await w.run(trial, args);
    const what = args.includes('--full') ? 'full maintenance' : 'quick maintenance';
    if (damage.index) {
      // The index is store-wide: maintenance may stop, but only loudly, naming what it cannot read.
      trial.check(
        `${what} succeeds or fails naming the damaged index object`,
        r.code === 0 || names(r.errorMessage, damage.keys),
        `exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? ''}`,
      );
    } else ok(what, r);
  }
}

export type { Damage };
