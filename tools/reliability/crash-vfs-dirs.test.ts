// Campaign 1 on a vfs:// store, directory volumes: crash trials of directory backups (create, delete,
// restore) and of full maintenance over them (see crash.ts, dir-volumes.ts).
import { registerCrashCampaign } from './crash-register.js';

registerCrashCampaign('vfs', ['create-full', 'create-incremental', 'delete', 'restore', 'maintenance-full'], 'dirs', { dirs: true });
