// The bugs the campaigns found (tools/reliability/bugs.ts), each shown by a short deterministic
// run of the real CLI. A test fails while its bug is open (it is not fixed here: packages/ and
// apps/ belong to others) and passes once it is fixed; after that a failure is a regression.
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { KNOWN_BUGS } from './bugs.js';
import { openCampaign, type CampaignHome } from './campaign-home.js';
import { runConfig } from './config.js';
import { blockKey, mutate } from './images.js';
import type { Rng } from './prng.js';
import { Trial, runTrial } from './trial.js';
import { HoldingProxy } from './s3-proxy.js';
import { s3FromEnv } from './stores.js';
import { World, type Backup } from './world.js';
import { checkNoLeak } from './world-gc.js';

const config = runConfig();
let home: CampaignHome;

const bug = (id: string): string => {
  const b = KNOWN_BUGS.find((x) => x.id === id);
  return `${b?.fixedIn === undefined ? 'KNOWN BUG' : `fixed in ${b.fixedIn}, must stay fixed:`} ${id}: ${b?.title ?? id}`;
};

/** A vfs world with one volume of `regions` regions and one backup of it. */
async function oneBackup(name: string, rng: Rng, regions = 3): Promise<{ w: World; b: Backup }> {
  const w = new World({
    store: home.stores.store('vfs', name),
    dir: path.join(home.dir, name),
    leaseTtlMs: undefined,
    timeoutMs: config.size.timeoutMs,
  });
  const v = await w.addVolume('v', rng, regions);
  return { w, b: await w.create(undefined, v) };
}

async function known(id: string, body: (t: Trial, rng: Rng) => Promise<void>): Promise<void> {
  const rng = home.rng.fork(id);
  const t = new Trial('known-bug', 'vfs', id, bug(id), rng.seed);
  t.knownBug(id);
  await runTrial(t, config.resultsFile, (trial) => body(trial, rng));
}

describe('bugs the campaigns found (a test fails while its bug is open)', () => {
  beforeAll(async () => {
    home = await openCampaign('known-bugs');
  });
  afterAll(async () => {
    await home?.close(false);
  });

  it(`${bug('B1')}`, () =>
    known('B1', async (t, rng) => {
      const { w, b } = await oneBackup('b1', rng);
      await w.run(t, ['maintenance', w.store.url, '--json']);
      const gens = await w.store.raw.list('refs/index/');
      await w.store.raw.remove(gens.at(-1) as string);
      t.fault(`removed ${gens.at(-1)}`);
      for (let i = 0; i < 2; i++) await w.run(t, ['maintenance', w.store.url, '--full', '--grace', '0s', '--json']);
      const present = new Set(await w.store.raw.list('blocks/'));
      const lost = b.state.blockIds.filter((id): id is string => id !== null && !present.has(blockKey(id)));
      t.check(
        'full maintenance never deletes a block a committed backup references',
        lost.length === 0,
        `${lost.length} of the backup's blocks were deleted`,
      );
      await w.restoreAll(t);
    }));

  it(`${bug('B2')}`, () =>
    known('B2', async (t, rng) => {
      const { w } = await oneBackup('b2', rng);
      await w.run(t, ['maintenance', w.store.url, '--json']);
      const run = (await w.store.raw.list('refs/runs/'))[0] as string;
      const body = (await w.store.raw.get(run)) as Buffer;
      body[body.length - 1] = (body[body.length - 1] as number) ^ 0xff;
      await w.store.raw.put(run, body);
      t.fault(`flipped the last byte of ${run}`);
      const r = await w.run(t, ['verify', w.store.url, '--read-data', '--json']);
      const keys = ((r.json as { problems?: { key: string }[] } | undefined)?.problems ?? []).map((p) => p.key);
      t.check('verify exits 3 on a corrupt index run', r.code === 3, `exit ${r.code}`);
      t.check('verify names the corrupt index run', keys.includes(run), `problems: ${keys.join(', ') || 'none'}`);
    }));

  it(`${bug('B3')}`, () =>
    known('B3', async (t, rng) => {
      const { w, b } = await oneBackup('b3', rng);
      await w.store.raw.remove(`volumes/${b.volume}/backups/${b.id}.blocks`);
      t.fault(`removed the block map of ${b.id}`);
      const r = await w.run(t, w.createArgs(w.volume('v')));
      t.check(
        'the next backup of the volume succeeds (the parent is only a hint)',
        r.code === 0,
        `exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? ''}`,
      );
    }));

  it(`${bug('B4')}`, () =>
    known('B4', async (t, rng) => {
      const { w } = await oneBackup('b4', rng, 8);
      const printed = (await w.run(t, w.createArgs(w.volume('v'), ['--parent', 'none']))).json as {
        url: string;
        stats: { durationMs: number };
      };
      const inspected = (await w.run(t, ['inspect', printed.url, '--json'])).json as { stats: { durationMs: number } };
      t.check(
        'create --json reports the duration the manifest records',
        printed.stats.durationMs === inspected.stats.durationMs && inspected.stats.durationMs > 0,
        `printed ${printed.stats.durationMs} ms, manifest ${inspected.stats.durationMs} ms`,
      );
    }));

  it(`${bug('B5')}`, () =>
    known('B5', async (t, rng) => {
      // On radosgw through a proxy that holds the backup's check of its add marker, the request
      // right after its manifest was written; meanwhile a quick maintenance (default grace) runs.
      const store = home.stores.store('s3', 'b5');
      const proxy = await HoldingProxy.start(s3FromEnv().endpoint);
      try {
        const w = new World({ store, dir: path.join(home.dir, 'b5'), leaseTtlMs: undefined, timeoutMs: config.size.timeoutMs });
        const v = await w.addVolume('v', rng, 6);
        await w.create(t, v);
        await w.run(t, ['maintenance', store.url, '--json']); // the first backup's marker is merged: only the new one will be pending
        await w.setState(v, mutate(rng, v.state, 0.5).state);
        const held = proxy.holdNext(
          (req, log) =>
            req.method === 'HEAD' &&
            /\/refs\/pending\/v\/[^/]+\.add$/.test(req.path) &&
            log.some((r) => r.method === 'PUT' && /\/volumes\/v\/backups\/[^/]+\.json$/.test(r.path)),
        );
        const run = w.start(w.createArgs(v), { env: { ...store.env, AWS_ENDPOINT_URL: proxy.url } });
        const hold = await Promise.race([held, run.done.then(() => undefined)]);
        if (hold === undefined) {
          proxy.cancel();
          t.fail('the backup never checked its add marker after writing its manifest (the protocol changed: update this test)');
          return;
        }
        t.fault(
          "held the backup's HEAD of its add marker (right after its manifest PUT); quick maintenance with the default grace; released",
        );
        const m = await w.run(t, ['maintenance', store.url, '--json']);
        t.measure('mergedWhileHeld', (m.json as { merge?: { adds?: number } } | undefined)?.merge?.adds ?? 0);
        hold.release();
        const r = t.ran(await run.done);
        t.check(
          'a backup whose manifest maintenance merged meanwhile commits',
          r.code === 0,
          `exit ${r.code} ${r.errorCode ?? ''} ${r.errorMessage ?? ''}`,
        );
        if (r.code === 0) w.adopt(v, r, v.state);
        for (let i = 0; i < 2; i++) await w.run(t, ['maintenance', store.url, '--full', '--grace', '0s', '--json']);
        await checkNoLeak(w, t);
        await w.verifyClean(t);
      } finally {
        await proxy.close();
        await store.dispose().catch(() => undefined);
      }
    }));

  it(`${bug('B6')}`, () =>
    known('B6', async (t, rng) => {
      const { w } = await oneBackup('b6', rng);
      const v = w.volume('v');
      await w.run(t, ['maintenance', w.store.url, '--json']);
      await w.setState(v, mutate(rng, v.state, 0.5).state);
      await w.create(t, v);
      await w.run(t, ['maintenance', w.store.url, '--json']);
      const newest = (await w.store.raw.list('refs/index/')).filter((k) => k.endsWith('.json')).at(-1) as string;
      const body = (await w.store.raw.get(newest)) as Buffer;
      body.fill(0xff, 10, 14);
      await w.store.raw.put(newest, body);
      t.fault(`overwrote 4 bytes of ${newest}`);
      const rebuilt = await w.run(t, ['maintenance', w.store.url, '--rebuild-index', '--json']);
      t.check('maintenance --rebuild-index succeeds', rebuilt.code === 0, `exit ${rebuilt.code} ${rebuilt.errorCode ?? ''}`);
      const next = await w.run(t, ['maintenance', w.store.url, '--full', '--grace', '0s', '--json']);
      t.check(
        'the first full maintenance after the rebuild succeeds',
        next.code === 0,
        `exit ${next.code} ${next.errorCode ?? ''} ${next.errorMessage ?? ''}`,
      );
      await w.verifyClean(t);
      await w.restoreAll(t);
    }));

  it(`${bug('B7')}`, () =>
    known('B7', async (t, rng) => {
      const { w } = await oneBackup('b7', rng);
      await w.run(t, ['maintenance', w.store.url, '--json']);
      const gen = (await w.store.raw.list('refs/index/')).filter((k) => k.endsWith('.json')).at(-1) as string;
      const body = (await w.store.raw.get(gen)) as Buffer;
      const at = body.indexOf('refs/runs/') + 'refs/'.length;
      body.fill(0xff, at, at + 4); // inside a JSON string: the generation still parses
      await w.store.raw.put(gen, body);
      t.fault(`overwrote 4 bytes of a run key inside ${gen}`);
      const r = await w.run(t, ['verify', w.store.url, '--read-data', '--json']);
      const keys = ((r.json as { problems?: { key: string }[] } | undefined)?.problems ?? []).map((p) => p.key);
      t.check(
        'verify exits 3 naming the damaged generation',
        r.code === 3 && keys.includes(gen),
        `exit ${r.code} ${r.errorCode ?? ''}; problems: ${keys.join(', ') || 'none'}`,
      );
      const m = await w.run(t, ['maintenance', w.store.url, '--full', '--grace', '0s', '--json']);
      t.check(
        'maintenance refuses the damaged generation, naming it',
        m.code !== 0 && m.errorCode === 'CONVOY_INDEX_CORRUPT' && (m.errorMessage ?? '').includes(gen),
        `exit ${m.code} ${m.errorCode ?? ''} ${m.errorMessage ?? ''}`,
      );
    }));
});
