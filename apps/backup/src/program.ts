import { packageVersion, type CliProgram } from '@convoy/cli-kit';
import { InterruptedError } from './errors.js';

// Codes that mean "the command line asked for something invalid" rather than "the work failed".
const USAGE_CODES = new Set(['CONVOY_USAGE', 'CONVOY_INVALID_ARGUMENT', 'CONVOY_STORE_URL_INVALID']);

/** convoy-backup, as @convoy/cli-kit parses, runs and reports it. */
export const PROGRAM: CliProgram = {
  name: 'convoy-backup',
  // src/ and dist/ both sit one level below package.json
  version: packageVersion(new URL('../package.json', import.meta.url)),
  commands: ['create', 'restore', 'list', 'inspect', 'delete', 'verify', 'repair', 'maintenance', 'upgrade'],
  repeatable: ['label'],
  isUsageCode: (code) => USAGE_CODES.has(code),
  interrupted: (signal, exitCode) => new InterruptedError(signal, exitCode),
};
