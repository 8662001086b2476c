// Campaign 1 on a vfs:// store, part 1: crash trials of full and incremental creates (see crash.ts).
import { registerCrashCampaign } from './crash-register.js';

registerCrashCampaign('vfs', ['create-full', 'create-incremental'], 'creates');
