// Killed key changes (keys.ts): kill -9 of `convoy-backup key change` and `key add` on an encrypted
// vfs:// store and an encrypted store in radosgw.
import { KeysCampaign, planKeys, type KeyPlanItem } from './keys.js';
import { registerSingleOpCampaign, type SingleOpSpec } from './single-op-register.js';

const spec: SingleOpSpec<KeyPlanItem> = {
  name: 'keys',
  title: 'killed key changes',
  plan: planKeys,
  make: (o) => new KeysCampaign(o.label, o.store, o.dir, o.size, o.resultsFile, o.proxy),
  trialTitle: (item) => `kill -9 key ${item.op}, then the old or the new passphrase opens the store and nothing is lost`,
  finalTitle: 'after every trial, a wrong passphrase is refused and every backup restores',
};

registerSingleOpCampaign(spec, 'vfs');
registerSingleOpCampaign(spec, 's3');
