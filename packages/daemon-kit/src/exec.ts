import { spawn } from 'node:child_process';
import { ConvoyError } from '@convoy/errors';

/** Debian packages that provide the programs Convoy runs (for the hint of a missing one). */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  thin_delta: 'thin-provisioning-tools',
  thin_ls: 'thin-provisioning-tools',
  losetup: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  'mkfs.ext4': 'e2fsprogs',
  'mkfs.xfs': 'xfsprogs',
  tar: 'tar',
  cp: 'coreutils',
  sync: 'coreutils',
};

export interface ExecOptions {
  signal?: AbortSignal | undefined;
  cwd?: string | undefined;
  /** Largest stdout kept (bytes); more fails the call. Default 64 MiB. */
  maxOutput?: number;
}

/**
 * Runs a program (no shell) and resolves to its stdout. A missing program is CONVOY_TOOL_MISSING
 * with the Debian package to install; any other failure is CONVOY_COMMAND_FAILED with the command
 * and the tail of its stderr.
 */
export function execText(cmd: string, args: readonly string[], options: ExecOptions = {}): Promise<string> {
  const max = options.maxOutput ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal, cwd: options.cwd });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > max) child.kill('SIGKILL');
      else out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        const pkg = PACKAGE_OF[cmd];
        reject(
          new ConvoyError('CONVOY_TOOL_MISSING', `${cmd} is not installed`, {
            hint: pkg === undefined ? `install ${cmd}` : `install it (Debian: \`apt-get install ${pkg}\`)`,
            cause: e,
          }),
        );
      } else {
        reject(new ConvoyError('CONVOY_COMMAND_FAILED', `${cmd} failed to start: ${e.message}`, { cause: e }));
      }
    });
    child.on('close', (code, sig) => {
      if (code === 0 && outBytes <= max) {
        resolve(Buffer.concat(out).toString('utf8'));
        return;
      }
      const why = outBytes > max ? `more than ${max} bytes of output` : sig !== null ? `killed by ${sig}` : `exit ${code}`;
      const tail = err.trim().split('\n').slice(-3).join(' | ');
      reject(
        new ConvoyError('CONVOY_COMMAND_FAILED', `${cmd} ${args.join(' ')} failed (${why})${tail === '' ? '' : `: ${tail}`}`, {
          hint: 'the command and its message are above; fix the cause and retry',
          details: { command: cmd, args: [...args] },
        }),
      );
    });
  });
}

/** execText for a program whose output is not wanted (at most 1 MiB of it is read and dropped). */
export async function execQuiet(cmd: string, args: readonly string[], options: Omit<ExecOptions, 'maxOutput'> = {}): Promise<void> {
  await execText(cmd, args, { ...options, maxOutput: 1024 * 1024 });
}
