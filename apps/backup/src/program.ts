import { packageVersion, type CliProgram } from '@convoy/cli-kit';
import { InterruptedError } from './errors.js';

/** convoy-backup, as @convoy/cli-kit parses, runs and reports it. */
export const PROGRAM: CliProgram = {
  name: 'convoy-backup',
  // src/ and dist/ both sit one level below package.json
  version: packageVersion(new URL('../package.json', import.meta.url)),
  commands: ['create', 'restore', 'list', 'ls', 'import', 'inspect', 'delete', 'verify', 'repair', 'maintenance', 'upgrade'],
  repeatable: ['label'],
  interrupted: (signal, exitCode) => new InterruptedError(signal, exitCode),
};
