// Campaign 3: corruption trials on vfs and radosgw (see corruption.ts, damage.ts).
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openCampaign, type CampaignHome } from './campaign-home.js';
import { runConfig } from './config.js';
import { buildBaseline, corruptionTrial, planCorruption } from './corruption.js';
import { Rng } from './prng.js';
import type { StoreKind } from './stores.js';
import type { World } from './world.js';

const config = runConfig();
const rng = new Rng(config.seed).fork('corruption');
let home: CampaignHome;
const baselines = new Map<StoreKind, World>();
let failed = false;

describe(`corruption trials (seed ${config.seed}, ${config.size.name})`, () => {
  beforeAll(async () => {
    home = await openCampaign('corruption');
    for (const kind of ['vfs', 's3'] as const) {
      baselines.set(kind, await buildBaseline(home.stores.store(kind, 'baseline'), path.join(home.dir, `baseline-${kind}`), config.size, rng.fork(`baseline-${kind}`)));
    }
  });
  afterAll(async () => {
    for (const w of baselines.values()) await w.store.dispose().catch(() => undefined);
    await home?.close(failed);
  });
  for (const spec of planCorruption(rng.fork('plan'), config.size)) {
    it(`corruption ${spec.store} #${spec.n} ${spec.kind}: named by verify and restore, other volumes go on, nothing else lost`, async () => {
      const base = baselines.get(spec.store);
      if (base === undefined) throw new Error('no baseline store');
      try {
        await corruptionTrial(spec, base, path.join(home.dir, `trial-${spec.store}-${spec.n}`), config.resultsFile);
      } catch (err) {
        failed = true;
        throw err;
      }
    });
  }
});
