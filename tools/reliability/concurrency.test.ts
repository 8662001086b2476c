// Campaign 4: concurrency rounds on vfs and radosgw (see concurrency.ts).
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openCampaign, type CampaignHome } from './campaign-home.js';
import { runConfig } from './config.js';
import { ConcurrencyCampaign, planConcurrency } from './concurrency.js';
import { Rng } from './prng.js';
import { STORE_KINDS, type StoreKind } from './stores.js';

const config = runConfig();
const rng = new Rng(config.seed).fork('concurrency');
let home: CampaignHome;
const campaigns = new Map<StoreKind, ConcurrencyCampaign>();
let failed = false;

describe(`concurrency rounds (seed ${config.seed}, ${config.size.name})`, () => {
  beforeAll(async () => {
    home = await openCampaign('concurrency');
    for (const kind of STORE_KINDS) {
      const c = new ConcurrencyCampaign(home.stores.store(kind, 'concurrency'), path.join(home.dir, kind), config.size, config.resultsFile);
      await c.setup(rng.fork(`setup-${kind}`));
      campaigns.set(kind, c);
    }
  });
  afterAll(async () => {
    if (!failed) for (const c of campaigns.values()) await c.world.store.dispose().catch(() => undefined); // kept for a look when a round failed
    await home?.close(failed);
  });
  for (const kind of STORE_KINDS) {
    for (const spec of planConcurrency(rng.fork(`plan-${kind}`), config.size)) {
      it(`concurrency ${kind} #${spec.n} ${spec.scenario}: all finish, all succeed, nothing lost`, async () => {
        try {
          await campaigns.get(kind)?.round(spec);
        } catch (err) {
          failed = true;
          throw err;
        }
      });
    }
    it(`concurrency ${kind}: after every round, two full maintenances leave every backup complete and no garbage`, async () => {
      try {
        await campaigns.get(kind)?.final();
      } catch (err) {
        failed = true;
        throw err;
      }
    });
  }
});
