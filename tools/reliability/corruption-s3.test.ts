// Campaign 3 on radosgw (s3://): corruption trials (see corruption.ts, damage.ts).
import { registerCorruptionCampaign } from './corruption-register.js';

registerCorruptionCampaign('s3');
