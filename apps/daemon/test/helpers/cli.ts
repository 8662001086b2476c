// The convoy CLI as an operator runs it: a real process (from apps/cli/src, Node 24) talking to
// the daemon's control socket.
import { REPO_ROOT } from './env.js';
import { runCommand, type CommandResult } from './docker.js';

export interface ConvoyRun extends CommandResult {
  /** The last non-empty stdout line (where convoy prints names and URLs). */
  last: string;
}

export async function convoy(controlSocket: string, args: readonly string[], timeoutMs = 90_000): Promise<ConvoyRun> {
  const argv = [
    '--conditions=@convoy/source',
    '--import',
    './tools/source-resolve.ts',
    'apps/cli/src/main.ts',
    '--socket',
    controlSocket,
    ...args,
  ];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8' };
  const r = await runCommand(process.execPath, argv, timeoutMs, { cwd: REPO_ROOT, env });
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  return { ...r, last: lines.at(-1) ?? '' };
}

/** Runs convoy and resolves to its last stdout line; rejects with its output when it fails. */
export async function convoyOk(controlSocket: string, args: readonly string[]): Promise<string> {
  const r = await convoy(controlSocket, args);
  if (r.code !== 0) throw new Error(`convoy ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.last;
}
