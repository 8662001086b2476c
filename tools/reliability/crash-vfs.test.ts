// Campaign 1 on a vfs:// store: crash trials (see crash.ts).
import { registerCrashCampaign } from './crash-register.js';

registerCrashCampaign('vfs');
