// Campaign 2: faulty S3 — operations through FaultyS3Proxy on radosgw (see s3-faults.ts).
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openCampaign, type CampaignHome } from './campaign-home.js';
import { runConfig } from './config.js';
import { FaultyS3Proxy } from './faulty-s3-proxy.js';
import { Rng } from './prng.js';
import { S3FaultCampaign } from './s3-faults.js';
import { planS3Faults } from './s3-faults-plan.js';
import { s3FromEnv } from './stores.js';

const config = runConfig();
const plan = planS3Faults(new Rng(config.seed).fork('s3-faults').fork('plan'), config.size);
let home: CampaignHome;
let proxy: FaultyS3Proxy;
let campaign: S3FaultCampaign;
let failed = false;

describe(`faulty S3 trials (seed ${config.seed}, ${config.size.name})`, () => {
  beforeAll(async () => {
    home = await openCampaign('s3-faults');
    proxy = await FaultyS3Proxy.start(s3FromEnv().endpoint);
    campaign = new S3FaultCampaign(
      home.stores.store('s3', 's3-faults'),
      path.join(home.dir, 'work'),
      config.size,
      config.resultsFile,
      proxy,
    );
    await campaign.setup(home.rng.fork('setup'));
  });
  afterAll(async () => {
    if (!failed) await campaign?.world.store.dispose().catch(() => undefined); // kept for a look when a trial failed
    await proxy?.close();
    await home?.close(failed);
  });
  for (const item of plan) {
    it(`s3 faults #${item.n}: ${item.op} through a faulty S3 succeeds with correct data or fails clearly, and nothing is lost`, async () => {
      try {
        await campaign.trial(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    });
  }
  it('s3 faults: after every trial, two full maintenances leave every backup complete and no garbage', async () => {
    try {
      await campaign.final();
    } catch (err) {
      failed = true;
      throw err;
    }
  });
});
