// Campaign 1 on radosgw (s3://), part 2: crash trials of delete and restore (see crash.ts).
import { registerCrashCampaign } from './crash-register.js';

registerCrashCampaign('s3', ['delete', 'restore'], 'restore-delete');
