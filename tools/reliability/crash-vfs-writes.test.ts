// Campaign 1 on a vfs:// store, part 1: crash trials of create, delete and restore (see crash.ts).
import { registerCrashCampaign } from './crash-register.js';

registerCrashCampaign('vfs', ['create-full', 'create-incremental', 'delete', 'restore'], 'writes');
