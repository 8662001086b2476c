import { spawn } from 'node:child_process';
import { VfsError } from './errors.js';

/** Runs a program (no shell), failing with its stderr tail. */
export function run(cmd: string, args: string[], options: { signal?: AbortSignal; cwd?: string } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...(options.signal === undefined ? {} : { signal: options.signal }), ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    child.on('error', (e) => reject(new VfsError('CONVOY_COMMAND_FAILED', `${cmd} failed to start: ${e.message}`, { cause: e })));
    child.on('close', (code, sig) => {
      if (code === 0) resolve();
      else reject(new VfsError('CONVOY_COMMAND_FAILED', `${cmd} ${args[0] ?? ''} failed (${sig ?? `exit ${code}`}): ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}
