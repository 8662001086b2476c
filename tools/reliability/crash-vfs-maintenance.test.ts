// Campaign 1 on a vfs:// store, part 2: crash trials of quick and full maintenance (see crash.ts).
import { registerCrashCampaign } from './crash-register.js';

registerCrashCampaign('vfs', ['maintenance', 'maintenance-full'], 'maintenance');
