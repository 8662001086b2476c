import { packageVersion, type CliProgram } from '@convoy/cli-kit';
import { InterruptedError } from './errors.js';

/** convoy, as @convoy/cli-kit parses, runs and reports it (exit codes: @convoy/cli-kit's EXIT, README.md). */
export const PROGRAM: CliProgram = {
  name: 'convoy',
  // src/ and dist/ both sit one level below package.json
  version: packageVersion(new URL('../package.json', import.meta.url)),
  commands: ['daemon', 'info', 'create', 'delete', 'mount', 'umount', 'list', 'inspect', 'snapshot', 'backup', 'completion'],
  // `run "convoy backup create --help"`
  hintDepth: 2,
  repeatable: ['label', 'opt', 'options'],
  completion: 'Print a shell completion script (bash, zsh): convoy completion >> ~/.bashrc',
  explainUnknownCommand: true,
  // ours, or the daemon's `*_INVALID*` codes: a bad size, an unsupported option
  isUsageCode: (code) => /INVALID/.test(code),
  interrupted: (signal, exitCode) => new InterruptedError(signal, exitCode),
};
