// Registers campaign 1 for one store kind: set-up, one test per trial, a final check.
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openCampaign, type CampaignHome } from './campaign-home.js';
import { runConfig } from './config.js';
import { CrashCampaign, planCrash } from './crash.js';
import { Rng } from './prng.js';
import { HoldingProxy } from './s3-proxy.js';
import { s3FromEnv, type StoreKind } from './stores.js';

export function registerCrashCampaign(kind: StoreKind): void {
  const config = runConfig();
  const plan = planCrash(new Rng(config.seed).fork(`crash-${kind}`).fork('plan'), config.size);
  let home: CampaignHome;
  let campaign: CrashCampaign;
  let proxy: HoldingProxy | undefined;
  let failed = false;

  describe(`crash trials on ${kind} (seed ${config.seed}, ${config.size.name})`, () => {
    beforeAll(async () => {
      home = await openCampaign(`crash-${kind}`);
      // On radosgw, half the kills land on a store-request boundary, through a proxy that holds the request.
      proxy = kind === 's3' ? await HoldingProxy.start(s3FromEnv().endpoint) : undefined;
      campaign = new CrashCampaign(home.stores.store(kind, 'crash'), path.join(home.dir, 'work'), config.size, config.resultsFile, proxy);
      await campaign.setup(home.rng.fork('setup'));
    });
    afterAll(async () => {
      await campaign?.world.store.dispose().catch(() => undefined);
      await proxy?.close();
      await home?.close(failed);
    });
    for (const item of plan) {
      it(`crash ${kind} #${item.n}: kill -9 ${item.op}, then nothing is lost`, async () => {
        try {
          await campaign.trial(item);
        } catch (err) {
          failed = true;
          throw err;
        }
      });
    }
    it(`crash ${kind}: after every trial, two full maintenances leave every backup complete and no garbage`, async () => {
      try {
        await campaign.final();
      } catch (err) {
        failed = true;
        throw err;
      }
    });
  });
}
