// Killed forget (forget.ts): kill -9 of `convoy-backup forget --keep-last K` on a vfs:// store and a
// store in radosgw.
import { ForgetCampaign, planForget, type ForgetPlanItem } from './forget.js';
import { registerSingleOpCampaign, type SingleOpSpec } from './single-op-register.js';

const spec: SingleOpSpec<ForgetPlanItem> = {
  name: 'forget',
  title: 'killed forget',
  plan: planForget,
  make: (o) => new ForgetCampaign(o.label, o.store, o.dir, o.size, o.resultsFile, o.proxy),
  trialTitle: () => 'kill -9 forget, then every kept backup restores, a removed one is absent, and the re-run keeps the same set',
  finalTitle: 'after every trial, two full maintenances leave every backup complete and no garbage',
};

registerSingleOpCampaign(spec, 'vfs');
registerSingleOpCampaign(spec, 's3');
