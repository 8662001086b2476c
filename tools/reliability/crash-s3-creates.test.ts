// Campaign 1 on radosgw (s3://), part 1: crash trials of full and incremental creates (see crash.ts).
import { registerCrashCampaign } from './crash-register.js';

registerCrashCampaign('s3', ['create-full', 'create-incremental'], 'creates');
