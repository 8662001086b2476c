// Campaign 1 on radosgw (s3://): crash trials (see crash.ts).
import { registerCrashCampaign } from './crash-register.js';

registerCrashCampaign('s3');
