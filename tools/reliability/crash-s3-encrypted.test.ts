// Campaign 1 on an encrypted store in radosgw (`init --encrypt`, CONVOY_PASSWORD): crash trials of
// every operation, and at the end no plaintext of a source in any stored object (see crash.ts, crypto-checks.ts).
import { registerCrashCampaign } from './crash-register.js';

registerCrashCampaign('s3', undefined, 'encrypted', { encrypted: true });
