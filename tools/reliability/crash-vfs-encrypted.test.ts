// Campaign 1 on an encrypted vfs:// store (`init --encrypt`, CONVOY_PASSWORD): crash trials of every
// operation, and at the end no plaintext of a source in any stored object (see crash.ts, crypto-checks.ts).
import { registerCrashCampaign } from './crash-register.js';

registerCrashCampaign('vfs', undefined, 'encrypted', { encrypted: true });
