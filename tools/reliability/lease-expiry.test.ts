// Lease-expiry trials with the CLI's own 150 s leases (see lease-expiry.ts). They mostly wait, so
// they all run at once, each on its own store, while the other campaign files use the CPU
// (vitest.config.ts starts this file first).
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openCampaign, type CampaignHome } from './campaign-home.js';
import { runConfig } from './config.js';
import { leaseExpiryTrial } from './lease-expiry.js';
import { Rng } from './prng.js';
import { STORE_KINDS } from './stores.js';

const config = runConfig();
const rng = new Rng(config.seed).fork('lease-expiry');
let home: CampaignHome;
let failed = false;

describe.concurrent(`lease-expiry trials (seed ${config.seed}, ${config.size.name})`, () => {
  beforeAll(async () => {
    home = await openCampaign('lease-expiry');
  });
  afterAll(async () => {
    await home?.close(failed);
  });
  for (const kind of STORE_KINDS) {
    for (let n = 1; n <= config.size.leaseExpiry.trialsPerStore; n++) {
      const full = (n + (kind === 's3' ? 1 : 0)) % 2 === 0;
      it(`lease expiry ${kind} #${n}: a killed ${full ? 'full ' : ''}maintenance's 150 s lease blocks no backup, delete or restore, and the next maintenance takes it over within one expiry`, async () => {
        try {
          await leaseExpiryTrial(
            n,
            full,
            home.stores.store(kind, `lease-${n}`),
            path.join(home.dir, `${kind}-${n}`),
            config.size,
            rng.fork(`${kind}-${n}`),
            config.resultsFile,
          );
        } catch (err) {
          failed = true;
          throw err;
        }
      });
    }
  }
});
