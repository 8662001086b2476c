import { packageVersion, type CliProgram } from '@convoy/cli-kit';
import { InterruptedError } from './errors.js';

/** convoy, as @convoy/cli-kit parses, runs and reports it (exit codes: the error-code registry's, docs/errors.md). */
export const PROGRAM: CliProgram = {
  name: 'convoy',
  // src/ and dist/ both sit one level below package.json
  version: packageVersion(new URL('../package.json', import.meta.url)),
  commands: ['daemon', 'info', 'create', 'delete', 'mount', 'umount', 'list', 'inspect', 'snapshot', 'backup', 'completion'],
  // `run "convoy backup create --help"`
  hintDepth: 2,
  repeatable: ['label', 'opt', 'options', 'names'], // names: `delete <names..>`
  completion: 'Print a shell completion script (bash, zsh): convoy completion >> ~/.bashrc',
  explainUnknownCommand: true,
  interrupted: (signal, exitCode) => new InterruptedError(signal, exitCode),
};
