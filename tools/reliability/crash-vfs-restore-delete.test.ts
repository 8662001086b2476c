// Campaign 1 on a vfs:// store, part 2: crash trials of delete and restore (see crash.ts).
import { registerCrashCampaign } from './crash-register.js';

registerCrashCampaign('vfs', ['delete', 'restore'], 'restore-delete');
