// Campaign 1 on radosgw (s3://), part 3: crash trials of quick and full maintenance (see crash.ts).
import { registerCrashCampaign } from './crash-register.js';

registerCrashCampaign('s3', ['maintenance', 'maintenance-full'], 'maintenance');
