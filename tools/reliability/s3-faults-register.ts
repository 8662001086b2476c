// Registers the faulty-S3 campaign (s3-faults.ts) for image or directory volumes: set-up, one
// test per trial, a final check. Each file has its own store and proxy and runs beside the other.
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { closeStoreCampaign, noting, openCampaign, type CampaignHome } from './campaign-home.js';
import { runConfig } from './config.js';
import { FaultyS3Proxy } from './faulty-s3-proxy.js';
import { Rng } from './prng.js';
import { S3FaultCampaign } from './s3-faults.js';
import { S3FAULT_DIR_OPS, S3FAULT_OPS, planS3Faults } from './s3-faults-plan.js';
import { s3FromEnv } from './stores.js';

export function registerS3FaultCampaign(dirs: boolean): void {
  const config = runConfig();
  const label = dirs ? 's3-faults-dirs' : 's3-faults';
  const plan = planS3Faults(new Rng(config.seed).fork(label).fork('plan'), config.size, dirs ? S3FAULT_DIR_OPS : S3FAULT_OPS, dirs);
  let home: CampaignHome;
  let proxy: FaultyS3Proxy;
  let campaign: S3FaultCampaign;
  let failed = false;
  const fail = (): void => {
    failed = true;
  };
  const what = dirs ? 'directory ' : '';

  describe(`faulty S3 trials${dirs ? ' (dirs)' : ''} (seed ${config.seed}, ${config.size.name})`, () => {
    beforeAll(async () => {
      home = await openCampaign(label);
      proxy = await FaultyS3Proxy.start(s3FromEnv().endpoint);
      const store = home.stores.store('s3', label);
      campaign = new S3FaultCampaign(label, store, path.join(home.dir, 'work'), config.size, config.resultsFile, proxy, dirs);
      await campaign.setup(home.rng.fork('setup'));
    });
    afterAll(() => closeStoreCampaign(home, failed, campaign?.world.store, proxy));
    for (const item of plan) {
      it(
        `${label} #${item.n}: ${what}${item.op} through a faulty S3 succeeds with correct data or fails clearly, and nothing is lost`,
        noting(fail, () => campaign.trial(item)),
      );
    }
    it(
      `${label}: after every trial, two full maintenances leave every backup complete and no garbage`,
      noting(fail, () => campaign.final()),
    );
  });
}
