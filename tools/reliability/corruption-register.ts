// Registers campaign 3 for one store kind: a baseline store, one test per damage (see
// corruption.ts, damage.ts). One file per store kind, so they run side by side.
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openCampaign, type CampaignHome } from './campaign-home.js';
import { runConfig } from './config.js';
import { buildBaseline, corruptionTrial, planCorruption } from './corruption.js';
import { Rng } from './prng.js';
import type { StoreKind } from './stores.js';
import type { World } from './world.js';

export function registerCorruptionCampaign(kind: StoreKind): void {
  const config = runConfig();
  const rng = new Rng(config.seed).fork('corruption');
  let home: CampaignHome;
  let base: World | undefined;
  let failed = false;

  describe(`corruption trials on ${kind} (seed ${config.seed}, ${config.size.name})`, () => {
    beforeAll(async () => {
      home = await openCampaign(`corruption-${kind}`);
      base = await buildBaseline(
        home.stores.store(kind, 'baseline'),
        path.join(home.dir, `baseline-${kind}`),
        config.size,
        rng.fork(`baseline-${kind}`),
      );
    });
    afterAll(async () => {
      await base?.store.dispose().catch(() => undefined);
      await home?.close(failed);
    });
    for (const spec of planCorruption(rng.fork('plan'), config.size).filter((s) => s.store === kind)) {
      it(`corruption ${spec.store} #${spec.n} ${spec.kind}: named by verify and restore, other volumes go on, nothing else lost, recovered`, async () => {
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
}
