// Campaign 3 on a vfs:// store: corruption trials (see corruption.ts, damage.ts).
import { registerCorruptionCampaign } from './corruption-register.js';

registerCorruptionCampaign('vfs');
