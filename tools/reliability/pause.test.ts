// Campaign 2: SIGSTOP/SIGCONT pause trials on vfs and radosgw (see pause.ts).
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openCampaign, type CampaignHome } from './campaign-home.js';
import { runConfig } from './config.js';
import { pauseTrial, planPause } from './pause.js';
import { Rng } from './prng.js';
import { STORE_KINDS } from './stores.js';

const config = runConfig();
let home: CampaignHome;
let failed = false;

describe(`pause trials (seed ${config.seed}, ${config.size.name})`, () => {
  beforeAll(async () => {
    home = await openCampaign('pause');
  });
  afterAll(async () => {
    await home?.close(failed);
  });
  for (const kind of STORE_KINDS) {
    for (const spec of planPause(new Rng(config.seed).fork(`pause-${kind}`), config.size)) {
      const lease = spec.pastLease ? 'past its lease' : 'within its lease';
      it(`pause ${kind} #${spec.n}: a backup stopped ${lease} while a delete and two full maintenances run commits complete or fails cleanly`, async () => {
        const store = home.stores.store(kind, `pause-${spec.n}`);
        try {
          await pauseTrial(spec, store, path.join(home.dir, `pause-${kind}-${spec.n}`), config.size, config.resultsFile);
          await store.dispose();
        } catch (err) {
          failed = true;
          throw err;
        }
      });
    }
  }
});
